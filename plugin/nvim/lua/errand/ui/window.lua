--- The tasks window: one float that shows the list (ui/list.lua) or one
--- task's details (ui/details.lua), redrawn as tasks change, with keys that
--- act on the task under the cursor.
local client = require("errand.client")
local config = require("errand.config")
local details = require("errand.ui.details")
local highlights = require("errand.highlights")
local list = require("errand.ui.list")
local state = require("errand.state")

local M = {}

local ns = vim.api.nvim_create_namespace("errand")

--- The one window: { buf, win, view = "list" | "details", rows = {line -> id}, detail = id, tail, timer }.
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

local function render()
  if not valid() then
    return
  end
  if view.view == "details" then
    local task = state.by_id[view.detail]
    if task then
      set_lines(details.render(task, view.tail))
    end
  else
    local lines, marks, rows = list.render()
    view.rows = rows
    set_lines(lines, marks)
  end
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
      state.merge(res.task)
      render()
    end
  end)
end

local function task_under_cursor()
  if not valid() then
    return nil
  end
  if view.view == "details" then
    return view.detail
  end
  return view.rows[vim.api.nvim_win_get_cursor(view.win)[1]]
end

function M.show_details(id)
  if not valid() then
    M.open()
  end
  view.view = "details"
  view.detail = id
  view.tail = ""
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

local help = {
  "errand tasks window",
  "",
  "<CR>   details of the task",
  "c      cancel",
  "r      restart",
  "d      delete (restorable with errand restore)",
  "o      output in a split, following it",
  "x      clear failed (mark read)",
  "<Esc>  back to the list (in details) / close",
  "q      close",
}

local function map_keys(buf)
  local function map(lhs, fn)
    vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, silent = true })
  end
  map("<CR>", function()
    local id = task_under_cursor()
    if id then
      M.show_details(id)
    end
  end)
  map("c", function()
    act("task/cancel", task_under_cursor())
  end)
  map("r", function()
    act("task/restart", task_under_cursor())
  end)
  map("d", function()
    act("task/delete", task_under_cursor())
  end)
  map("o", function()
    local id = task_under_cursor()
    if id then
      M.close()
      require("errand.ui.output").open(id)
    end
  end)
  map("x", function()
    local ids = {}
    for id, t in pairs(state.by_id) do
      if t.status == "failed" or t.status == "lost" then
        table.insert(ids, id)
      end
    end
    if #ids > 0 then
      client.request("task/markRead", { ids = ids })
    end
  end)
  map("?", function()
    vim.notify(table.concat(help, "\n"), vim.log.levels.INFO, { title = "errand" })
  end)
  map("q", M.close)
  map("<Esc>", function()
    if view and view.view == "details" then
      view.view = "list"
      render()
    else
      M.close()
    end
  end)
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
  local o = config.options.window
  local width = math.max(60, math.floor(vim.o.columns * o.width))
  local height = math.max(10, math.floor(vim.o.lines * o.height))
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = "errand"
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = math.min(width, vim.o.columns - 2),
    height = math.min(height, vim.o.lines - 4),
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    style = "minimal",
    border = o.border,
    title = " errand ",
    title_pos = "center",
  })
  vim.wo[win].cursorline = true
  view = { buf = buf, win = win, view = "list", rows = {} }
  map_keys(buf)
  vim.api.nvim_create_autocmd({ "BufWipeout", "WinClosed" }, {
    buffer = buf,
    once = true,
    callback = function()
      vim.schedule(M.close)
    end,
  })
  state.listeners.window = function(t)
    if valid() and (view.view == "list" or (t and t.id == view.detail)) then
      render()
    end
  end
  -- Relative times stay current while the window is open (and only then).
  view.timer = vim.uv.new_timer()
  view.timer:start(1000, 1000, vim.schedule_wrap(tick))
  render()
  client.request("task/list", { limit = 200 }, function(err, res)
    if err or not res then
      return
    end
    for _, t in ipairs(res.tasks) do
      state.merge(t)
    end
    render()
  end)
end

return M
