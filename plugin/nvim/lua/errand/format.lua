--- How times, durations, commands and output tails are written, the same
--- in popups, the tasks window and the details view.
local M = {}

--- Milliseconds since the epoch (os.time() counts whole seconds: a task
--- 1.3 s old would read "0s ago").
---@return integer
function M.now_ms()
  local sec, usec = vim.uv.gettimeofday()
  return sec * 1000 + math.floor(usec / 1000)
end

--- "3s ago", "4m ago", "2h ago", "5d ago".
---@param ms integer? milliseconds since the epoch
function M.relative(ms)
  if not ms then
    return ""
  end
  local t = require("errand.messages").t
  local s = math.max(0, math.floor((M.now_ms() - ms) / 1000))
  if s < 60 then
    return t("ago_s", s)
  elseif s < 3600 then
    return t("ago_m", math.floor(s / 60))
  elseif s < 86400 then
    return t("ago_h", math.floor(s / 3600))
  end
  return t("ago_d", math.floor(s / 86400))
end

--- "0.4s", "12.3s", "3m04s", "1h02m".
---@param ms integer?
function M.duration(ms)
  if not ms then
    return ""
  end
  if ms < 60000 then
    return ("%.1fs"):format(ms / 1000)
  elseif ms < 3600000 then
    return ("%dm%02ds"):format(math.floor(ms / 60000), math.floor(ms / 1000) % 60)
  end
  return ("%dh%02dm"):format(math.floor(ms / 3600000), math.floor(ms / 60000) % 60)
end

--- Text from a task or a project, safe to show: each control character
--- (C0, DEL, C1) as `cat -v` shows it (`^[` for ESC, `^J` for a newline,
--- `^?` for DEL, `M-^[` for U+009B), as the CLI does. A raw newline would
--- also make nvim_buf_set_lines refuse the whole view.
---@param text string?
---@return string
function M.sanitize(text)
  local shown = tostring(text or ""):gsub("[%z\1-\31\127]", function(c)
    local b = c:byte()
    return b == 127 and "^?" or "^" .. string.char(b + 64)
  end)
  -- C1 controls are U+0080-U+009F: two bytes in UTF-8.
  shown = shown:gsub("\194([\128-\159])", function(c)
    return "M-^" .. string.char(c:byte() - 64)
  end)
  return shown
end

--- A command as a person would type it.
---@param command errand.CommandSpec
function M.command(command)
  return command.shell or table.concat(command.argv or {}, " ")
end

--- The last `n` lines of `text`, each sanitized (output can carry escapes).
function M.last_lines(text, n)
  local lines = vim.split(vim.trim(text or ""), "\n", { plain = true })
  local from = math.max(1, #lines - n + 1)
  return table.concat(vim.tbl_map(M.sanitize, vim.list_slice(lines, from)), "\n")
end

--- `text` sanitized, cut or padded to `width` screen cells: cut by
--- characters, never inside one, so columns after it stay aligned.
---@param text string?
---@param width integer
function M.fit(text, width)
  local full = M.sanitize(text)
  local shown = full
  -- Nearly every character takes a cell or more: start at `width` of them.
  local n = math.min(vim.fn.strchars(full), width)
  while vim.fn.strdisplaywidth(shown) > width do
    n = n - 1
    shown = vim.fn.strcharpart(full, 0, n) .. "…"
  end
  return shown .. (" "):rep(width - vim.fn.strdisplaywidth(shown))
end

--- How long a task took, or (running) has taken so far: the server's
--- `durationMs` of a running task is as of when it was sent.
---@param task errand.Task
---@return integer?
function M.duration_ms(task)
  if task.status == "running" and task.startedAt then
    return math.max(0, M.now_ms() - task.startedAt)
  end
  return task.durationMs
end

--- A running task's progress: "45%", "45% · 1m04s left" with an ETA
--- (milliseconds since the epoch), "" without progress.
---@param task errand.Task
---@return string
function M.progress(task)
  local parts = {}
  if type(task.progress) == "number" then
    table.insert(parts, ("%d%%"):format(math.floor(task.progress)))
  end
  -- From its progress, or from how long the same command took before.
  if type(task.etaAt) == "number" then
    table.insert(parts, require("errand.messages").t("left", M.duration(math.max(0, task.etaAt - M.now_ms()))))
  end
  return table.concat(parts, " · ")
end

--- Was it stopped by its timeout? (The server says so in its error.)
---@param task errand.Task
function M.timed_out(task)
  return type(task.timeoutMs) == "number" and type(task.error) == "string" and vim.startswith(task.error, "timed out")
end

--- Why a task did not succeed: its timeout, its exit code, its signal, or its status.
---@param task errand.Task
function M.why(task)
  local t = require("errand.messages").t
  if M.timed_out(task) then
    return t("timed_out", M.duration(task.timeoutMs))
  elseif task.exitCode then
    return t("exit_code", task.exitCode)
  elseif task.signal then
    return t("signal_n", task.signal)
  end
  return t("status_" .. task.status)
end

return M
