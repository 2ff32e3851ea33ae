--- The details view of the tasks window: one task's facts and the end of
--- its output.
local config = require("errand.config")
local format = require("errand.format")
local highlights = require("errand.highlights")

local M = {}

M.keys_hint = "<Esc> back  c cancel  r restart  o output  q close"

--- Lines and highlights for `task` with its output `tail`.
---@param task errand.Task
---@param tail string
---@return string[] lines, table[] marks
function M.render(task, tail)
  local icons = config.options.icons
  local rows = {
    { "status", (icons[task.status] or "") .. " " .. task.status },
    { "name", format.sanitize(task.name) },
    { "id", task.id },
    { "command", format.sanitize(format.command(task.command)) },
    { "cwd", format.sanitize(task.cwd) },
    { "started", task.startedAt and format.relative(task.startedAt) or "" },
    { "ended", task.endedAt and format.relative(task.endedAt) or "" },
    { "duration", format.duration(task.durationMs) },
    { "exit code", task.exitCode and tostring(task.exitCode) or "" },
  }
  if task.signal then
    table.insert(rows, { "signal", tostring(task.signal) })
  end
  if task.progress then
    local message = task.progressMessage and ("  " .. format.sanitize(task.progressMessage)) or ""
    table.insert(rows, { "progress", format.progress(task) .. message })
  end
  if task.error then
    table.insert(rows, { "error", format.sanitize(task.error) })
  end
  local lines, marks = {}, {}
  for _, r in ipairs(rows) do
    table.insert(lines, ("%12s  %s"):format(r[1], r[2]))
    table.insert(marks, { #lines - 1, 0, 12, "ErrandLabel" })
  end
  marks[1] = { 0, 14, 14 + #(icons[task.status] or ""), highlights.status[task.status] }
  table.insert(lines, "")
  table.insert(lines, "── output ──")
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
  vim.list_extend(lines, vim.split(tail or "", "\n", { plain = true }))
  table.insert(lines, "")
  table.insert(lines, M.keys_hint)
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
  return lines, marks
end

return M
