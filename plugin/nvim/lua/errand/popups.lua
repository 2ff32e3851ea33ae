--- Popups through vim.notify (so nvim-notify, snacks, noice or fidget
--- render them): when a task ends, and once at start-up for what ended
--- while Neovim was closed. They never block: with Neovim's own
--- vim.notify (the message line) every popup is one line that fits, since
--- a longer one stops the editor at a "Press ENTER" prompt; a notification
--- plugin gets the output's last lines too. A burst is combined.
local config = require("errand.config")
local format = require("errand.format")
local t = require("errand.messages").t

local M = {}

--- Popups shown one by one within BURST_MS of the first; the rest of the
--- burst becomes one summary at its end.
local BURST_MS = 1000
local BURST_SHOWN = 3

--- Summarised once per Neovim, even when the server restarts.
local summarised = false

--- Is vim.notify Neovim's own (the message line), not a plugin's?
local function message_line()
  local info = debug.getinfo(vim.notify, "S")
  return info ~= nil and info.source:find("vim/_editor", 1, true) ~= nil
end

--- Show `first` (one line) and, where a notification plugin renders it,
--- `more` lines under it. On the message line: `first` cut to fit.
---@param first string
---@param more string?
---@param level integer
local function show(first, more, level)
  if message_line() then
    local room = math.max(20, vim.v.echospace - 1)
    if vim.fn.strdisplaywidth(first) > room then
      first = vim.trim(format.fit(first, room - 1))
    end
    return vim.notify(first, level, { title = "errand" })
  end
  local msg = (more and more ~= "") and (first .. "\n" .. more) or first
  vim.notify(msg, level, { title = "errand" })
end

--- The burst in progress: { started (ms), shown, held, failed }.
local burst = nil

--- True if this popup is one a burst holds back (counted for its summary).
---@param failed boolean
local function held_by_burst(failed)
  local now = vim.uv.now()
  if not burst or now - burst.started > BURST_MS then
    burst = { started = now, shown = 0, held = 0, failed = 0 }
  end
  if burst.shown < BURST_SHOWN then
    burst.shown = burst.shown + 1
    return false
  end
  if burst.held == 0 then
    local mine = burst
    vim.defer_fn(function()
      local text = mine.held == 1 and t("burst_more_one") or t("burst_more", mine.held)
      if mine.failed > 0 then
        text = text .. t("n_failed", mine.failed)
      end
      show(text .. t("see_list"), nil, mine.failed > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
    end, math.max(0, mine.started + BURST_MS - now))
  end
  burst.held = burst.held + 1
  burst.failed = burst.failed + (failed and 1 or 0)
  return true
end

--- "icon name suffix", the name cut first where it must fit the message
--- line: the outcome and the id after it matter more.
---@param icon string
---@param name string
---@param suffix string
local function headline(icon, name, suffix)
  if message_line() then
    local room = math.max(20, vim.v.echospace - 1)
    local fixed = vim.fn.strdisplaywidth(icon .. " " .. suffix)
    if fixed + vim.fn.strdisplaywidth(name) > room then
      name = vim.trim(format.fit(name, math.max(8, room - fixed)))
    end
  end
  return icon .. " " .. name .. suffix
end

--- The popup for a task that ended.
---@param task errand.Task
---@param tail string? its last lines of output
function M.finished(task, tail)
  local n = config.options.notify
  local icons = config.options.icons
  local name = format.sanitize(task.name)
  local failed = task.status == "failed" or task.status == "lost"
  local wanted = (task.status == "completed" and n.on_complete)
    or (failed and n.on_failure)
    or (task.status == "cancelled" and n.on_cancel)
  if not wanted or held_by_burst(failed) then
    return
  end
  if task.status == "completed" then
    local suffix = (" (%s) · %s"):format(format.duration(task.durationMs), task.id)
    show(headline(icons.completed, name, suffix), nil, vim.log.levels.INFO)
  elseif failed then
    -- The error, when no output: unless the reason already says it.
    local output = (tail and tail ~= "") and tail or (not format.timed_out(task) and task.error or nil)
    local first = headline(icons.failed, name, (" (%s) · %s"):format(format.why(task), task.id))
    local last = format.last_lines(output, 1)
    if message_line() and last ~= "" then
      first = first .. t("colon") .. last
    end
    show(first, format.last_lines(output, n.failure_lines), vim.log.levels.ERROR)
  else
    show(headline(icons.cancelled, name, t("popup_cancelled", task.id)), nil, vim.log.levels.WARN)
  end
end

--- The popup for a long-running task whose output said it is ready.
---@param task errand.Task
function M.ready(task)
  if not config.options.notify.on_ready then
    return
  end
  local icon = config.options.icons.ready or ""
  show(headline(icon, format.sanitize(task.name), t("popup_ready", task.id)), nil, vim.log.levels.INFO)
end

--- One summary of what finished while no editor was there to be told (the
--- server gives each such task once, to the first client that asks).
---@param unread errand.Task[] the newest of them
---@param total integer? how many in all
---@param total_failed integer? how many of them all failed
function M.startup(unread, total, total_failed)
  if summarised or #unread == 0 or not config.options.notify.on_startup then
    return
  end
  summarised = true
  total = math.max(total or #unread, #unread)
  local state = require("errand.state")
  local icons = config.options.icons
  local parts, failed = {}, 0
  for _, task in ipairs(unread) do
    state.merge(task)
    table.insert(parts, ("%s %s"):format(icons[task.status] or "", format.sanitize(task.name)))
    if task.status == "failed" or task.status == "lost" then
      failed = failed + 1
    end
  end
  if total > #unread then
    table.insert(parts, t("summary_more", total - #unread))
  end
  failed = math.max(failed, total_failed or 0)
  local head = total == 1 and t("summary_one") or t("summary", total)
  if failed > 0 then
    head = head .. t("n_failed", failed)
  end
  -- On the message line the names follow on the same line (cut to fit).
  local inline = message_line() and (t("colon") .. table.concat(parts, ", ") .. t("see_list")) or ""
  show(head .. inline, table.concat(parts, "\n"), failed > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
end

return M
