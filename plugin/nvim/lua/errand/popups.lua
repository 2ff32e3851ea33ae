--- Popups through vim.notify (so nvim-notify, snacks, noice or fidget
--- render them): when a task ends, and once at start-up for what ended
--- while Neovim was closed.
local config = require("errand.config")
local format = require("errand.format")

local M = {}

--- Summarised once per Neovim, even when the server restarts.
local summarised = false

--- The popup for a task that ended.
---@param task errand.Task
---@param tail string? its last lines of output
function M.finished(task, tail)
  local n = config.options.notify
  local icons = config.options.icons
  local name = format.sanitize(task.name)
  if task.status == "completed" and n.on_complete then
    local text = ("%s %s (%s)"):format(icons.completed, name, format.duration(task.durationMs))
    vim.notify(text, vim.log.levels.INFO, { title = "errand" })
  elseif (task.status == "failed" or task.status == "lost") and n.on_failure then
    local msg = ("%s %s (%s)"):format(icons.failed, name, format.why(task))
    local lines = format.last_lines((tail and tail ~= "") and tail or task.error, n.failure_lines)
    if lines ~= "" then
      msg = msg .. "\n" .. lines
    end
    vim.notify(msg, vim.log.levels.ERROR, { title = "errand" })
  elseif task.status == "cancelled" and n.on_cancel then
    vim.notify(("%s %s cancelled"):format(icons.cancelled, name), vim.log.levels.WARN, { title = "errand" })
  end
end

--- One summary of the tasks that finished while Neovim was closed. The
--- ones that succeeded are marked read; failures stay unread, so they
--- count in the statusline until cleared.
---@param unread errand.Task[]
function M.startup(unread)
  if summarised or #unread == 0 or not config.options.notify.on_startup then
    return
  end
  summarised = true
  local state = require("errand.state")
  local icons = config.options.icons
  local parts, seen, level = {}, {}, vim.log.levels.INFO
  for _, t in ipairs(unread) do
    state.merge(t)
    table.insert(parts, ("%s %s"):format(icons[t.status] or "", format.sanitize(t.name)))
    if t.status == "failed" or t.status == "lost" then
      level = vim.log.levels.WARN
    else
      table.insert(seen, t.id)
    end
  end
  local head = ("%d task%s finished while Neovim was closed:"):format(#unread, #unread == 1 and "" or "s")
  vim.notify(head .. "\n" .. table.concat(parts, "\n"), level, { title = "errand" })
  if #seen > 0 then
    require("errand.client").request("task/markRead", { ids = seen })
  end
end

return M
