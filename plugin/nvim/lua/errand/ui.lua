--- The tasks window (a float with sections), the details view inside it,
--- and output buffers that follow a running task.
local config = require("errand.config")
local rpc = require("errand.rpc")
local tasks = require("errand.tasks")

local M = {}

local ns = vim.api.nvim_create_namespace("errand")

local function hl_defaults()
  local links = {
    ErrandRunning = "DiagnosticInfo",
    ErrandQueued = "Comment",
    ErrandCompleted = "DiagnosticOk",
    ErrandFailed = "DiagnosticError",
    ErrandCancelled = "DiagnosticWarn",
    ErrandLost = "DiagnosticError",
    ErrandSection = "Title",
    ErrandDim = "Comment",
    ErrandLabel = "Label",
  }
  for group, link in pairs(links) do
    vim.api.nvim_set_hl(0, group, { link = link, default = true })
  end
end

local status_hl = {
  running = "ErrandRunning",
  queued = "ErrandQueued",
  completed = "ErrandCompleted",
  failed = "ErrandFailed",
  cancelled = "ErrandCancelled",
  lost = "ErrandLost",
}

local function now_ms()
  return os.time() * 1000
end

function M.relative(ms)
  if not ms then
    return ""
  end
  local s = math.max(0, math.floor((now_ms() - ms) / 1000))
  if s < 60 then
    return s .. "s ago"
  elseif s < 3600 then
    return math.floor(s / 60) .. "m ago"
  elseif s < 86400 then
    return math.floor(s / 3600) .. "h ago"
  end
  return math.floor(s / 86400) .. "d ago"
end

local sections = {
  { title = "Running", statuses = { running = true } },
  { title = "Queued", statuses = { queued = true } },
  { title = "Completed", statuses = { completed = true } },
  { title = "Failed", statuses = { failed = true, lost = true } },
  { title = "Cancelled", statuses = { cancelled = true } },
}

-- The one tasks window: { buf, win, view = "list" | "details", rows = {line -> id}, detail = id }
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

local function val(x)
  if x == vim.NIL then
    return nil
  end
  return x
end

local function render_list()
  local icons = config.options.icons
  local lines, marks, rows = {}, {}, {}
  local all = tasks.list()
  for _, sec in ipairs(sections) do
    local items = vim.tbl_filter(function(t)
      return sec.statuses[t.status]
    end, all)
    if #items > 0 or sec.title == "Running" or sec.title == "Queued" or sec.title == "Completed" or sec.title == "Failed" then
      table.insert(lines, ("%s (%d)"):format(sec.title, #items))
      table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
      for _, t in ipairs(items) do
        local when = M.relative(val(t.ended_at) or val(t.started_at) or t.created_at)
        local extra = tasks.duration(val(t.duration_ms))
        if val(t.exit_code) and t.exit_code ~= 0 then
          extra = extra .. "  exit " .. t.exit_code
        elseif val(t.signal) then
          extra = extra .. "  signal " .. t.signal
        end
        if val(t.progress) then
          extra = extra .. ("  %d%%"):format(t.progress)
        end
        local icon = icons[t.status] or " "
        local line = ("  %s %s  %-40s %8s  %s"):format(icon, t.id, t.name:sub(1, 40), when, extra)
        table.insert(lines, line)
        rows[#lines] = t.id
        table.insert(marks, { #lines - 1, 2, 2 + #icon, status_hl[t.status] })
        local read = val(t.read_at) ~= nil
        if read and t.status ~= "running" and t.status ~= "queued" then
          table.insert(marks, { #lines - 1, 2 + #icon, #line, "ErrandDim" })
        end
      end
      table.insert(lines, "")
    end
  end
  table.insert(lines, "<CR> details  c cancel  r restart  d delete  o output  x clear failed  ? help  q close")
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
  view.rows = rows
  set_lines(lines, marks)
end

local function render_details()
  local t = tasks.by_id[view.detail]
  if not t then
    return
  end
  local icons = config.options.icons
  local rows = {
    { "status", (icons[t.status] or "") .. " " .. t.status },
    { "name", t.name },
    { "id", t.id },
    { "command", t.command.shell or table.concat(t.command.argv or {}, " ") },
    { "cwd", t.cwd },
    { "started", val(t.started_at) and M.relative(t.started_at) or "" },
    { "ended", val(t.ended_at) and M.relative(t.ended_at) or "" },
    { "duration", tasks.duration(val(t.duration_ms)) },
    { "exit code", val(t.exit_code) and tostring(t.exit_code) or "" },
  }
  if val(t.signal) then
    table.insert(rows, { "signal", tostring(t.signal) })
  end
  if val(t.progress) then
    table.insert(rows, { "progress", ("%d%% %s"):format(t.progress, val(t.progress_message) or "") })
  end
  if val(t.error) then
    table.insert(rows, { "error", t.error })
  end
  local lines, marks = {}, {}
  for _, r in ipairs(rows) do
    table.insert(lines, ("%12s  %s"):format(r[1], r[2]))
    table.insert(marks, { #lines - 1, 0, 12, "ErrandLabel" })
  end
  marks[1] = { 0, 14, 14 + #(icons[t.status] or ""), status_hl[t.status] }
  table.insert(lines, "")
  table.insert(lines, "── output ──")
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
  for _, l in ipairs(vim.split(view.tail or "", "\n", { plain = true })) do
    table.insert(lines, l)
  end
  table.insert(lines, "")
  table.insert(lines, "<Esc> back  c cancel  r restart  o output  q close")
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
  set_lines(lines, marks)
end

local function render()
  if not valid() then
    return
  end
  if view.view == "details" then
    render_details()
  else
    render_list()
  end
end

local function refresh_tail()
  if not valid() or view.view ~= "details" then
    return
  end
  local id = view.detail
  rpc.request("task/get", { id = id, tail_lines = 30 }, function(err, res)
    if not err and res and valid() and view.detail == id then
      view.tail = res.output_tail
      tasks.merge(res)
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
  local line = vim.api.nvim_win_get_cursor(view.win)[1]
  return view.rows[line]
end

function M.show_details(id)
  if not valid() then
    M.open_list()
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
  local t = view.view == "details" and tasks.by_id[view.detail]
  if t and (t.status == "running" or t.status == "queued") then
    refresh_tail()
  else
    render()
  end
end

local function close()
  if view then
    if vim.api.nvim_win_is_valid(view.win) then
      vim.api.nvim_win_close(view.win, true)
    end
    if view.timer then
      view.timer:stop()
      view.timer:close()
    end
    tasks.listeners.window = nil
    view = nil
  end
end

local function act(method, id)
  if not id then
    return
  end
  rpc.request(method, { id = id }, function(err)
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
      close()
      M.open_output(id)
    end
  end)
  map("x", function()
    local ids = {}
    for id, t in pairs(tasks.by_id) do
      if t.status == "failed" or t.status == "lost" then
        table.insert(ids, id)
      end
    end
    if #ids > 0 then
      rpc.request("task/markRead", { ids = ids })
    end
  end)
  map("?", function()
    vim.notify(table.concat(help, "\n"), vim.log.levels.INFO, { title = "errand" })
  end)
  map("q", close)
  map("<Esc>", function()
    if view and view.view == "details" then
      view.view = "list"
      render()
    else
      close()
    end
  end)
end

function M.open_list()
  hl_defaults()
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
      vim.schedule(close)
    end,
  })
  tasks.listeners.window = function(t)
    if valid() and (view.view == "list" or (t and t.id == view.detail)) then
      render()
    end
  end
  -- Relative times stay current while the window is open (and only then).
  view.timer = vim.uv.new_timer()
  view.timer:start(1000, 1000, vim.schedule_wrap(tick))
  render()
  rpc.request("task/list", { limit = 200 }, function(err, res)
    if err or not res then
      return
    end
    for _, t in ipairs(res.tasks) do
      tasks.merge(t)
    end
    render()
  end)
end

--- The task's output in a split, following it while it runs.
function M.open_output(id)
  local name = "errand://" .. id
  local existing = vim.fn.bufnr(name)
  local buf = existing ~= -1 and existing or vim.api.nvim_create_buf(false, true)
  if existing == -1 then
    vim.api.nvim_buf_set_name(buf, name)
    vim.bo[buf].bufhidden = "hide"
    vim.bo[buf].filetype = "errandoutput"
  end
  vim.cmd("botright split")
  vim.api.nvim_win_set_buf(0, buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
  local partial = false -- does the buffer end with an unfinished line?
  local function append(data)
    if data == "" or not vim.api.nvim_buf_is_valid(buf) then
      return
    end
    local pieces = vim.split(data, "\n", { plain = true })
    local n = vim.api.nvim_buf_line_count(buf)
    local empty = n == 1 and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == ""
    if partial or empty then
      local last = vim.api.nvim_buf_get_lines(buf, n - 1, n, false)[1] or ""
      pieces[1] = last .. pieces[1]
      vim.api.nvim_buf_set_lines(buf, n - 1, n, false, pieces)
    else
      vim.api.nvim_buf_set_lines(buf, n, n, false, pieces)
    end
    partial = pieces[#pieces] ~= ""
    if not partial then
      -- The split left an empty last piece for the final newline: drop it.
      local count = vim.api.nvim_buf_line_count(buf)
      if count > 1 then
        vim.api.nvim_buf_set_lines(buf, count - 1, count, false, {})
      end
    end
    for _, win in ipairs(vim.fn.win_findbuf(buf)) do
      if win ~= vim.api.nvim_get_current_win() then
        vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(buf), 0 })
      end
    end
  end
  local function read_from(offset)
    rpc.request("task/output", { id = id, offset = offset, max_bytes = 4194304 }, function(err, res)
      if err or not res then
        vim.notify("errand: " .. (err and err.message or "no output"), vim.log.levels.ERROR, { title = "errand" })
        return
      end
      append(res.data)
      if res.more then
        return read_from(res.next)
      end
      if not res.finished then
        tasks.output_listeners[id] = function(ev)
          append(ev.data)
        end
        rpc.request("task/follow", { id = id, from = res.next })
      end
    end)
  end
  read_from(0)
  return buf
end

return M
