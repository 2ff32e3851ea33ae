--- A task's output in a buffer (`errand://ID`), following it while it runs.
local client = require("errand.client")
local state = require("errand.state")

local M = {}

--- Append `data` to `buf`, continuing its last line when that one is open.
local function appender(buf)
  local partial = false -- does the buffer end with an unfinished line?
  return function(data)
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
end

--- Followed tasks: where their output goes on, and their buffer's appender.
---@type table<string, {next: integer, append: fun(data: string)}>
local following = {}

--- Read from where the buffer ends, then follow while the task runs.
---@param id string
local function catch_up(id)
  local f = following[id]
  client.request("task/output", { id = id, offset = f.next, maxBytes = 4194304 }, function(err, res)
    if following[id] ~= f or (res and res.offset ~= f.next) then
      return -- opened again, or another catch-up got there first
    end
    if err or not res then
      vim.notify("errand: " .. (err and err.message or "no output"), vim.log.levels.ERROR, { title = "errand" })
      return
    end
    f.append(res.data)
    f.next = res.next
    if res.more then
      return catch_up(id)
    end
    if res.finished then
      following[id] = nil
      return
    end
    state.output_listeners[id] = function(ev)
      -- Only what continues the buffer: a restart's catch-up may cross an event.
      if following[id] == f and ev.from == f.next then
        f.append(ev.data)
        f.next = ev.next
      end
    end
    client.request("task/follow", { id = id, from = res.next })
  end)
end

--- Open the task's output in a split; returns the buffer.
---@param id string
function M.open(id)
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
  local append = appender(buf)
  following[id] = { next = 0, append = append }
  catch_up(id)
  return buf
end

--- A new server (after a restart) knows nothing of our follows: read on
--- from where each one was, and follow again.
client.on_initialized.output = function()
  for id in pairs(following) do
    catch_up(id)
  end
end

return M
