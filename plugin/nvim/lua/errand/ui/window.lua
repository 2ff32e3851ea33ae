--- The tasks window: one float that shows the list (ui/list.lua) or one
--- task's details (ui/details.lua), redrawn as tasks change, with keys that
--- act on the task under the cursor.
local client = require("errand.client")
local config = require("errand.config")
local details = require("errand.ui.details")
local filter = require("errand.ui.filter")
local t = require("errand.messages").t
local highlights = require("errand.highlights")
local list = require("errand.ui.list")
local state = require("errand.state")

local M = {}

local ns = vim.api.nvim_create_namespace("errand")

--- At most one redraw per this many ms: a burst of 2,000 events is a few
--- redraws, not 2,000.
local RENDER_EVERY_MS = 50
--- Tasks a finished section loads at a time.
local PAGE = 200

--- The one window: { buf, win, view = "list" | "details", rows = {line ->
--- id or {more = section}}, detail = id, tail, timer, more = {section ->
--- cursor}, pending, rendered_at }.
local view = nil

local function valid()
  return view and vim.api.nvim_win_is_valid(view.win) and vim.api.nvim_buf_is_valid(view.buf)
end

local function set_lines(lines, marks)
  vim.bo[view.buf].modifiable = true
  vim.api.nvim_buf_set_lines(view.buf, 0, -1, false, lines)
  vim.bo[view.buf].modifiable = false
  vim.api.nvim_buf_clear_namespace(view.buf, ns, 0, -1)
  for _, m in ipairs(marks) do
    pcall(vim.api.nvim_buf_set_extmark, view.buf, ns, m[1], m[2], { end_col = m[3], hl_group = m[4] })
  end
end

--- The list again, the cursor on the same task at the same screen line
--- (rows move as tasks start, end and arrive; keys act on what is under
--- the cursor).
local function render_list()
  local row = vim.api.nvim_win_get_cursor(view.win)[1]
  local kept = view.rows[row]
  local screen_line = vim.api.nvim_win_call(view.win, vim.fn.winline)
  -- Back from details or help: the place the list was left at.
  if view.left_at then
    kept, row, screen_line = view.left_at.row, view.left_at.lnum, view.left_at.screen_line
    view.left_at = nil
  end
  local passes = function(task)
    return filter.passes(view.filter, task)
  end
  local lines, marks, rows = list.render(view.more, vim.api.nvim_win_get_width(view.win), passes)
  view.rows = rows
  set_lines(lines, marks)
  for line, what in pairs(rows) do
    if kept ~= nil and vim.deep_equal(what, kept) then
      row = line
      break
    end
  end
  row = math.min(row, #lines)
  -- The same screen line, but never scrolled past the end of the list.
  local height = vim.api.nvim_win_get_height(view.win)
  local topline = math.max(1, math.min(row - screen_line + 1, #lines - height + 1))
  vim.api.nvim_win_call(view.win, function()
    vim.fn.winrestview({ lnum = row, col = 0, topline = topline })
  end)
end

--- Remember where the list is before details or help take the window.
local function leave_list()
  if view.view == "list" then
    local lnum = vim.api.nvim_win_get_cursor(view.win)[1]
    local screen_line = vim.api.nvim_win_call(view.win, vim.fn.winline)
    view.left_at = { row = view.rows[lnum], lnum = lnum, screen_line = screen_line }
  end
end

local function render_now()
  if not valid() then
    return
  end
  view.pending, view.rendered_at = false, vim.uv.now()
  if view.view == "details" then
    local task = state.by_id[view.detail]
    if task then
      set_lines(details.render(task, view.tail, view.result))
    end
  elseif view.view == "help" then
    set_lines(M.help_lines(), {})
  else
    render_list()
  end
end

--- Redraw soon: at most one redraw per RENDER_EVERY_MS, however many
--- changes arrive.
local function render()
  if not valid() or view.pending then
    return
  end
  view.pending = true
  vim.defer_fn(render_now, math.max(0, (view.rendered_at or 0) + RENDER_EVERY_MS - vim.uv.now()))
end

--- The output tail of the task in the details view, from the server.
local function refresh_tail()
  if not valid() or view.view ~= "details" then
    return
  end
  local id = view.detail
  client.request("task/get", { id = id, tailLines = 30 }, function(err, res)
    if not err and res and valid() and view.detail == id then
      view.tail = res.outputTail
      view.result = res.result
      state.merge(res.task)
      render()
    end
  end)
end

--- What the row under the cursor is: a task's id, or {more = section}.
local function row_under_cursor()
  if not valid() then
    return nil
  end
  if view.view == "details" then
    return view.detail
  elseif view.view == "help" then
    return nil
  end
  return view.rows[vim.api.nvim_win_get_cursor(view.win)[1]]
end

local function task_under_cursor()
  local row = row_under_cursor()
  return type(row) == "string" and row or nil
end

--- Load a section's next page of finished tasks (all pages of the active).
---@param section string a key of list.sections
---@param cursor string? where the previous page ended
local function load(section, cursor)
  local statuses = list.statuses(section)
  local active = section == "running" or section == "queued"
  local generation = view.generation
  local params = {
    status = statuses,
    limit = active and 1000 or PAGE,
    cursor = cursor,
    text = view.filter.text,
    group = view.filter.group,
  }
  client.request("task/list", params, function(err, res)
    -- Gone, or asked before the filters changed: not for this list.
    if err or not res or not valid() or view.generation ~= generation then
      return
    end
    for _, t in ipairs(res.tasks) do
      state.merge(t)
    end
    if active and res.nextCursor then
      return load(section, res.nextCursor)
    end
    view.more[section] = res.nextCursor
    render()
  end)
end

function M.show_details(id)
  if not valid() then
    M.open()
  end
  leave_list()
  view.view = "details"
  view.detail = id
  view.tail = ""
  view.result = nil
  render()
  refresh_tail()
end

--- Every second while the window is open: relative times, and the output
--- tail of a running task in the details view.
local function tick()
  if not valid() then
    return
  end
  local t = view.view == "details" and state.by_id[view.detail]
  if t and state.is_active(t) then
    refresh_tail()
  else
    render()
  end
end

function M.close()
  if view then
    if vim.api.nvim_win_is_valid(view.win) then
      vim.api.nvim_win_close(view.win, true)
    end
    if view.timer then
      view.timer:stop()
      view.timer:close()
    end
    state.listeners.window = nil
    pcall(vim.api.nvim_del_augroup_by_name, "errand_window")
    view = nil
  end
end

local function act(method, id)
  if not id then
    return
  end
  client.request(method, { id = id }, function(err)
    if err then
      vim.notify("errand: " .. err.message, vim.log.levels.ERROR, { title = "errand" })
    end
  end)
end

local function set_title()
  vim.api.nvim_win_set_config(view.win, { title = filter.title(view.filter, view.group_counts), title_pos = "center" })
end

--- With one group shown, the title counts it against its own limit: asked
--- again when one of its tasks changes, at most one request at a time.
local function load_group_counts()
  local group = view.filter.group
  if not group then
    view.group_counts = nil
    return
  elseif view.counting then
    view.count_again = true
    return
  end
  view.counting = true
  client.request("task/counts", { group = group }, function(err, res)
    if not valid() then
      return
    end
    view.counting = false
    if not err and view.filter.group == group then
      view.group_counts = res
      set_title()
    end
    if view.count_again then
      view.count_again = false
      load_group_counts()
    end
  end)
end

--- Filters changed: the title says so, and every section loads again.
local function refilter()
  view.group_counts = nil
  set_title()
  load_group_counts()
  view.more = {}
  view.generation = view.generation + 1
  for _, section in ipairs(list.section_keys) do
    load(section)
  end
  render()
end

--- Every action of the window, in the order `?` lists them: its name (for
--- `window.keys` and `<Plug>(errand-NAME)`), what it does, and how.
local actions = {
  {
    "details",
    "details of the task; on a more row, load more",
    function()
      local row = row_under_cursor()
      if type(row) == "table" and row.watch then
        -- A watch: its latest run.
        local w = vim.iter(require("errand.watches").list):find(function(w)
          return w.id == row.watch
        end)
        if w and w.lastRun then
          state.merge(w.lastRun)
          M.show_details(w.lastRun.id)
        end
      elseif type(row) == "table" then
        load(row.more, view.more[row.more])
      elseif row then
        M.show_details(row)
      end
    end,
  },
  {
    "cancel",
    "cancel; on a watch, end it",
    function()
      local row = row_under_cursor()
      if type(row) == "table" and row.watch then
        require("errand.watches").stop(row.watch)
      else
        act("task/cancel", task_under_cursor())
      end
    end,
  },
  {
    "pause",
    "pause a running task (SIGSTOP; it keeps its slot), or resume it",
    function()
      local id = task_under_cursor()
      local task = id and state.by_id[id]
      if task then
        act(type(task.pausedAt) == "number" and "task/resume" or "task/pause", id)
      end
    end,
  },
  {
    "restart",
    "restart",
    function()
      act("task/restart", task_under_cursor())
    end,
  },
  {
    "delete",
    "delete (restorable with errand restore)",
    function()
      act("task/delete", task_under_cursor())
    end,
  },
  {
    "output",
    "output in a terminal split, following it",
    function()
      local id = task_under_cursor()
      if id then
        M.close()
        require("errand.ui.output").open(id)
      end
    end,
  },
  {
    "clear",
    "clear failed (mark every finished task read)",
    -- Every finished task, loaded in the window or not: the statusline's
    -- failure count goes to zero, as after :Errand clear.
    function()
      client.request("task/markRead", { all = true })
    end,
  },
  {
    "filter",
    "filter by text in the name or command (empty: none)",
    function()
      view.prompting = true
      vim.ui.input({ prompt = t("filter_prompt"), default = view.filter.text or "" }, function(text)
        if view then
          view.prompting = false
        end
        if text and valid() then
          view.filter.text = text ~= "" and text or nil
          refilter()
        end
      end)
    end,
  },
  {
    "group",
    "show one group (project)",
    function()
      local groups = { t("all_groups") }
      local seen = {}
      for _, t in pairs(state.by_id) do
        if t.group and not seen[t.group] then
          seen[t.group] = true
          table.insert(groups, t.group)
        end
      end
      view.prompting = true
      vim.ui.select(groups, { prompt = t("group_prompt"), kind = "errand.group" }, function(choice, index)
        if view then
          view.prompting = false
        end
        if choice and valid() then
          view.filter.group = index ~= 1 and choice or nil
          refilter()
        end
      end)
    end,
  },
  {
    "unread",
    "unread only, or all again",
    function()
      view.filter.unread = not view.filter.unread
      refilter()
    end,
  },
  {
    "help",
    "these keys",
    function()
      leave_list()
      view.view = "help"
      render()
    end,
  },
  {
    "back",
    "back to the list (from details or help), or close",
    function()
      if view and view.view ~= "list" then
        view.view = "list"
        render()
      else
        M.close()
      end
    end,
  },
  { "close", "close", M.close },
}

--- The keys of an action as the user configured them (a string, a list, or
--- false for none).
local function keys_of(name)
  local k = config.options.window.keys[name]
  if not k then
    return {}
  end
  return type(k) == "table" and k or { k }
end

--- The help view: every action with its keys (a multi-line message would
--- stop Neovim at a "Press ENTER" prompt, so it shows in the window).
function M.help_lines()
  local lines = { t("window_help"), "" }
  for _, a in ipairs(actions) do
    local keys = table.concat(keys_of(a[1]), " ")
    table.insert(lines, ("%-12s %s"):format(keys ~= "" and keys or "-", t("action_" .. a[1])))
  end
  vim.list_extend(lines, { "", t("plug_hint") })
  return lines
end

local function map_keys(buf)
  for _, a in ipairs(actions) do
    local plug = "<Plug>(errand-" .. a[1] .. ")"
    vim.keymap.set("n", plug, a[3], { buffer = buf, desc = "errand: " .. t("action_" .. a[1]) })
    for _, lhs in ipairs(keys_of(a[1])) do
      vim.keymap.set("n", lhs, plug, { buffer = buf, nowait = true, silent = true, remap = true })
    end
  end
end

--- Where the float goes and how big it is, for the editor's size now.
local function float_config()
  local o = config.options.window
  local width = math.min(math.max(60, math.floor(vim.o.columns * o.width)), vim.o.columns - 2)
  local height = math.min(math.max(10, math.floor(vim.o.lines * o.height)), vim.o.lines - 4)
  return {
    relative = "editor",
    width = math.max(1, width),
    height = math.max(1, height),
    row = math.max(0, math.floor((vim.o.lines - height) / 2) - 1),
    col = math.max(0, math.floor((vim.o.columns - width) / 2)),
  }
end

--- Open (or focus) the tasks window on its list.
function M.open()
  highlights.define()
  if valid() then
    view.view = "list"
    render()
    vim.api.nvim_set_current_win(view.win)
    return
  end
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = "errand"
  -- Redrawn in full many times: no undo history to grow with each.
  vim.bo[buf].undolevels = -1
  local win = vim.api.nvim_open_win(
    buf,
    true,
    vim.tbl_extend("force", float_config(), {
      style = "minimal",
      border = config.options.window.border,
      title = " errand ",
      title_pos = "center",
    })
  )
  vim.wo[win].cursorline = true
  view = { buf = buf, win = win, view = "list", rows = {}, more = {}, filter = {}, generation = 0 }
  map_keys(buf)
  local group = vim.api.nvim_create_augroup("errand_window", { clear = true })
  vim.api.nvim_create_autocmd({ "BufWipeout", "WinClosed" }, {
    group = group,
    buffer = buf,
    once = true,
    callback = function()
      vim.schedule(M.close)
    end,
  })
  if config.options.window.close_on_leave then
    vim.api.nvim_create_autocmd("WinLeave", {
      group = group,
      buffer = buf,
      callback = function()
        -- A picker or prompt of the window's own (a float of dressing or
        -- snacks) is not leaving it.
        if not view.prompting then
          vim.schedule(M.close)
        end
      end,
    })
  end
  vim.api.nvim_create_autocmd("VimResized", {
    group = group,
    callback = function()
      if valid() then
        vim.api.nvim_win_set_config(view.win, float_config())
        render()
      end
    end,
  })
  state.listeners.window = function(t)
    if not valid() then
      return
    end
    if t and view.filter.group and t.group == view.filter.group then
      load_group_counts()
    end
    if view.view == "list" then
      render()
    elseif view.view == "details" and t and t.id == view.detail then
      -- Its status and its output up to the end (a task that just ended
      -- wrote its last lines after the last tick).
      refresh_tail()
    end
  end
  -- Relative times and running durations stay current while the window is
  -- open (and only then).
  view.timer = vim.uv.new_timer()
  view.timer:start(1000, 1000, vim.schedule_wrap(tick))
  render()
  for _, section in ipairs(list.section_keys) do
    load(section)
  end
end

return M
