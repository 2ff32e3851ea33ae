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

--- The window's title, naming the filters in force; with one group, that
--- group's counts and its own limit ("1/2 running · 3 queued").
---@param f { text: string?, group: string?, unread: boolean? }
---@param group_counts errand.Counts? the counts of `f.group`
---@return string
function M.title(f, group_counts)
  local parts = {}
  if f.text then
    table.insert(parts, ("“%s”"):format(format.sanitize(f.text)))
  end
  if f.group then
    table.insert(parts, t("filter_group", format.sanitize(f.group)))
    local c = group_counts or {}
    if c.limit then
      table.insert(parts, t("group_running_limit", c.running, c.limit))
    elseif (c.running or 0) > 0 then
      table.insert(parts, t("count_running", c.running))
    end
    if (c.queued or 0) > 0 then
      table.insert(parts, t("count_queued", c.queued))
    end
  end
  if f.unread then
    table.insert(parts, t("filter_unread"))
  end
  return #parts > 0 and (" errand · " .. table.concat(parts, " · ") .. " ") or " errand "
end

return M
