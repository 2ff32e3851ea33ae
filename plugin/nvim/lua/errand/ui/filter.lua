--- The tasks window's filters: text in a task's name or command, one
--- group, unread only. A filter is a table { text?, group?, unread? }.
local format = require("errand.format")
local state = require("errand.state")
local t = require("errand.messages").t

local M = {}

--- Does `task` pass filter `f`? Active tasks are never hidden as read.
---@param f { text: string?, group: string?, unread: boolean? }
---@param task errand.Task
---@return boolean
function M.passes(f, task)
  if f.group and task.group ~= f.group then
    return false
  end
  if f.unread and task.readAt and not state.is_active(task) then
    return false
  end
  if f.text then
    local hay = (task.name .. "\n" .. format.command(task.command)):lower()
    if not hay:find(f.text:lower(), 1, true) then
      return false
    end
  end
  return true
end

--- The window's title, naming the filters in force.
---@param f { text: string?, group: string?, unread: boolean? }
---@return string
function M.title(f)
  local parts = {}
  if f.text then
    table.insert(parts, ("“%s”"):format(format.sanitize(f.text)))
  end
  if f.group then
    table.insert(parts, t("filter_group", format.sanitize(f.group)))
  end
  if f.unread then
    table.insert(parts, t("filter_unread"))
  end
  return #parts > 0 and (" errand · " .. table.concat(parts, " · ") .. " ") or " errand "
end

return M
