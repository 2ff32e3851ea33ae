--- The list view of the tasks window: sections by status, a row per task.
local config = require("errand.config")
local format = require("errand.format")
local highlights = require("errand.highlights")
local state = require("errand.state")

local M = {}

local sections = {
  { title = "Running", statuses = { running = true }, always = true },
  { title = "Queued", statuses = { queued = true }, always = true },
  { title = "Completed", statuses = { completed = true }, always = true },
  { title = "Failed", statuses = { failed = true, lost = true }, always = true },
  { title = "Cancelled", statuses = { cancelled = true } },
}

M.keys_hint = "<CR> details  c cancel  r restart  d delete  o output  x clear failed  ? help  q close"

--- Lines, highlights ({row, col, end_col, group}) and the task of each row.
---@return string[] lines, table[] marks, table<integer, string> rows
function M.render()
  local icons = config.options.icons
  local lines, marks, rows = {}, {}, {}
  local all = state.list()
  for _, sec in ipairs(sections) do
    local items = vim.tbl_filter(function(t)
      return sec.statuses[t.status]
    end, all)
    if #items > 0 or sec.always then
      table.insert(lines, ("%s (%d)"):format(sec.title, #items))
      table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
      for _, t in ipairs(items) do
        local when = format.relative(t.endedAt or t.startedAt or t.createdAt)
        local extra = format.duration(t.durationMs)
        if t.exitCode and t.exitCode ~= 0 then
          extra = extra .. "  exit " .. t.exitCode
        elseif t.signal then
          extra = extra .. "  signal " .. t.signal
        end
        if t.progress then
          extra = extra .. ("  %d%%"):format(t.progress)
        end
        local icon = icons[t.status] or " "
        local line = ("  %s %s  %s %8s  %s"):format(icon, t.id, format.fit(t.name, 40), when, extra)
        table.insert(lines, line)
        rows[#lines] = t.id
        table.insert(marks, { #lines - 1, 2, 2 + #icon, highlights.status[t.status] })
        if t.readAt and not state.is_active(t) then
          table.insert(marks, { #lines - 1, 2 + #icon, #line, "ErrandDim" })
        end
      end
      table.insert(lines, "")
    end
  end
  table.insert(lines, M.keys_hint)
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
  return lines, marks, rows
end

return M
