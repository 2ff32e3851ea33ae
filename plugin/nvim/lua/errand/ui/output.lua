--- A task's output in a terminal buffer (`errand://ID`, through
--- nvim_open_term): colours, `\r` progress bars and cursor movement render
--- as in a shell, and it follows the task while it runs. What is typed in
--- it (terminal mode) goes to the task's stdin a line at a time, echoed and
--- editable as a cooked terminal would; Ctrl-D closes the task's stdin.
--- One buffer and one window per task, reused.
local client = require("errand.client")
local state = require("errand.state")
local t = require("errand.messages").t

--- A catch-up replays one read (4 MiB) at most; past it, a notice and the
--- last lines (a terminal keeps 10,000 lines: a gigabyte is only cost).
local TAIL_LINES = 1000
--- While a follow skips, its notice is repeated this often (ms), so one
--- stays within the scrollback.
local NOTICE_EVERY = 3000

local M = {}

--- Followed tasks: where their output goes on, and their terminal's channel.
---@type table<string, {next: integer, chan: integer, buf: integer, skipping: boolean, noticed: integer}>
local following = {}

--- Windows on the output keep its end in view, as a terminal does, unless
--- the user moved the cursor up: then it stays where they put it. (A
--- terminal buffer follows by itself only in terminal mode.)
---@param f {buf: integer, end_line: integer?, scrolling: boolean?}
local function keep_end_in_view(f)
  if f.scrolling then
    return
  end
  f.scrolling = true
  -- What was sent shows on the terminal's next refresh: look after it.
  vim.defer_fn(function()
    f.scrolling = false
    if not vim.api.nvim_buf_is_valid(f.buf) then
      return
    end
    local last = vim.api.nvim_buf_line_count(f.buf)
    for _, win in ipairs(vim.fn.win_findbuf(f.buf)) do
      local at = vim.api.nvim_win_get_cursor(win)[1]
      local typing = win == vim.api.nvim_get_current_win() and vim.api.nvim_get_mode().mode == "t"
      if not typing and at >= (f.end_line or 1) then
        vim.api.nvim_win_set_cursor(win, { last, 0 })
      end
    end
    f.end_line = last
  end, 50)
end

--- The task's output as a terminal shows it: a pipe's "\n" is a terminal's
--- "\r\n" (what a pty's onlcr would have done).
---@param f {chan: integer, buf: integer}
---@param data string
local function put(f, data)
  if data ~= "" then
    vim.api.nvim_chan_send(f.chan, (data:gsub("\r?\n", "\r\n")))
    keep_end_in_view(f)
  end
end

--- A grey line in the terminal, as errand's own words (Neovim's terminal
--- does not render dim text).
---@param chan integer
---@param text string
local function notice(chan, text)
  vim.api.nvim_chan_send(chan, "\r\n\27[90m[errand] " .. text .. "\27[0m\r\n")
end

--- Read from where the terminal ends, then follow while the task runs.
---@param id string
---@param capped boolean? past one read: the last lines instead
local function catch_up(id, capped)
  local f = following[id]
  local params = { id = id, offset = f.next, maxBytes = 4194304 }
  if capped then
    params = { id = id, lines = TAIL_LINES }
  end
  client.request("task/output", params, function(err, res)
    if following[id] ~= f or (res and not capped and res.offset ~= f.next) then
      return -- opened again, or another catch-up got there first
    end
    if err or not res then
      vim.notify("errand: " .. (err and err.message or "no output"), vim.log.levels.ERROR, { title = "errand" })
      return
    end
    if capped then
      notice(f.chan, t("output_tail_only", TAIL_LINES, id))
    end
    put(f, res.data)
    f.next = res.next
    if res.more then
      return catch_up(id, true)
    end
    if res.finished then
      following[id] = nil
      return
    end
    state.output_listeners[id] = function(ev)
      -- Only what continues the terminal: a restart's catch-up may cross an event.
      if following[id] == f and ev.from == f.next then
        -- Skipping: said when it starts, and again now and then.
        if (ev.skipped or 0) > 0 then
          local now = vim.uv.now()
          if not f.skipping or now - f.noticed >= NOTICE_EVERY then
            notice(f.chan, t("output_skipping", id))
            f.noticed = now
          end
        end
        f.skipping = (ev.skipped or 0) > 0
        put(f, ev.data)
        f.next = ev.next
      end
    end
    client.request("task/follow", { id = id, from = res.next })
  end)
end

--- Keys typed in terminal mode, as a cooked terminal takes them: echoed,
--- Backspace edits the line, Enter sends it, Ctrl-D sends what is typed
--- and closes the task's stdin.
---@param id string
local function input_handler(id)
  local line = ""
  return function(_, chan, _, data)
    -- Arrows, function keys and the like arrive as escape sequences: a
    -- line-at-a-time input has no use for them.
    if data:sub(1, 1) == "\27" then
      return
    end
    for _, c in ipairs(vim.fn.split(data, "\\zs")) do
      if c == "\r" or c == "\n" then
        client.request("task/sendInput", { id = id, text = line .. "\n" })
        vim.api.nvim_chan_send(chan, "\r\n")
        line = ""
      elseif c == "\127" or c == "\8" then
        if line ~= "" then
          line = vim.fn.strcharpart(line, 0, vim.fn.strchars(line) - 1)
          vim.api.nvim_chan_send(chan, "\8 \8")
        end
      elseif c == "\4" then
        client.request("task/sendInput", { id = id, text = line, eof = true })
        line = ""
      elseif c:byte() >= 32 then
        line = line .. c
        vim.api.nvim_chan_send(chan, c)
      end
    end
  end
end

--- Show `buf` in its window if one shows it, else in a new split (`mods`:
--- the command's modifiers, `vertical`, `tab`, `botright` by default).
local function show(buf, mods)
  local win = vim.fn.win_findbuf(buf)[1]
  if win then
    return vim.api.nvim_set_current_win(win)
  end
  vim.cmd((mods ~= "" and mods or "botright") .. " split")
  vim.api.nvim_win_set_buf(0, buf)
end

--- Open the task's output (`typed`: an id or a unique prefix); `mods` as
--- `:vertical`, `:tab`. cb(buf) once it shows; nothing opens for an
--- unknown id (the error is a popup).
---@param typed string
---@param mods string?
---@param cb fun(buf: integer)?
function M.open(typed, mods, cb)
  client.request("task/get", { id = typed }, function(err, res)
    if err or not res then
      vim.notify("errand: " .. (err and err.message or "no such task"), vim.log.levels.ERROR, { title = "errand" })
      return
    end
    local id = res.task.id
    local name = "errand://" .. id
    local existing = vim.fn.bufnr(name)
    if existing ~= -1 then
      show(existing, mods or "")
      return cb and cb(existing)
    end
    local buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
    show(buf, mods or "")
    local chan = vim.api.nvim_open_term(buf, { on_input = input_handler(id) })
    vim.bo[buf].bufhidden = "hide"
    vim.bo[buf].filetype = "errandoutput"
    vim.api.nvim_create_autocmd("BufWipeout", {
      buffer = buf,
      once = true,
      callback = function()
        following[id] = nil
        state.output_listeners[id] = nil
      end,
    })
    following[id] = { next = 0, chan = chan, buf = buf, skipping = false, noticed = 0 }
    catch_up(id)
    if cb then
      cb(buf)
    end
  end)
end

--- A new server (after a restart) knows nothing of our follows: read on
--- from where each one was, and follow again.
client.on_initialized.output = function()
  for id in pairs(following) do
    catch_up(id)
  end
end

return M
