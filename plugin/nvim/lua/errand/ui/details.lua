--- The details view of the tasks window: one task's facts and the end of
--- its output.
local config = require("errand.config")
local format = require("errand.format")
local highlights = require("errand.highlights")
local t = require("errand.messages").t

local M = {}

--- Lines of a result shown before the output.
local RESULT_LINES = 20

--- A decoded JSON value as indented lines, keys sorted (the same on every
--- Neovim: vim.json.encode indents only from 0.12).
---@param value any
---@param prefix string what goes before the first line
---@param indent string
---@param out string[]
local function pretty(value, prefix, indent, out)
  if type(value) ~= "table" then
    table.insert(out, prefix .. vim.json.encode(value))
    return
  end
  local is_list = vim.islist(value) and not (next(value) == nil and getmetatable(value) ~= nil)
  local open, close = is_list and "[" or "{", is_list and "]" or "}"
  if next(value) == nil then
    table.insert(out, prefix .. open .. close)
    return
  end
  table.insert(out, prefix .. open)
  local keys = {}
  for k in pairs(value) do
    table.insert(keys, k)
  end
  if not is_list then
    table.sort(keys, function(a, b)
      return tostring(a) < tostring(b)
    end)
  end
  for i, k in ipairs(keys) do
    local before = indent .. "  " .. (is_list and "" or (vim.json.encode(tostring(k)) .. ": "))
    pretty(value[k], before, indent .. "  ", out)
    if i < #keys then
      out[#out] = out[#out] .. ","
    end
  end
  table.insert(out, indent .. close)
end

--- Lines and highlights for `task` with its output `tail` and the JSON
--- `result` it left (`task/get`'s).
---@param task errand.Task
---@param tail string
---@param result any
---@return string[] lines, table[] marks
function M.render(task, tail, result)
  local icons = config.options.icons
  local rows = {
    {
      t("label_status"),
      (icons[task.status] or "")
        .. " "
        .. t("status_" .. task.status)
        .. (type(task.pausedAt) == "number" and (" · " .. t("status_paused")) or "")
        .. (type(task.readyAt) == "number" and (" · " .. t("status_ready")) or ""),
    },
    { t("label_name"), format.sanitize(task.name) },
    { t("label_id"), task.id },
    { t("label_command"), format.sanitize(format.command(task.command)) },
    { t("label_cwd"), format.sanitize(task.cwd) },
    { t("label_started"), task.startedAt and format.relative(task.startedAt) or "" },
    { t("label_ended"), task.endedAt and format.relative(task.endedAt) or "" },
    { t("label_duration"), format.duration(format.duration_ms(task)) },
    { t("label_exit"), task.exitCode and tostring(task.exitCode) or "" },
  }
  if task.signal then
    table.insert(rows, { t("label_signal"), tostring(task.signal) })
  end
  if task.progress then
    local message = task.progressMessage and ("  " .. format.sanitize(task.progressMessage)) or ""
    table.insert(rows, { t("label_progress"), format.progress(task) .. message })
  end
  if task.error then
    table.insert(rows, { t("label_error"), format.sanitize(task.error) })
  end
  if type(task.dependsOn) == "table" and #task.dependsOn > 0 then
    table.insert(rows, { t("label_after"), table.concat(task.dependsOn, ", ") })
  end
  if (task.retries or 0) > 0 then
    local attempts = type(task.attempts) == "table" and task.attempts or {}
    table.insert(rows, { t("label_runs"), t("runs_of", #attempts + 1, task.retries + 1) })
    for i, a in ipairs(attempts) do
      local why = a.error and format.sanitize(a.error)
        or (a.exitCode and t("why_exit", a.exitCode))
        or t("why_signal", a.signal or 0)
      table.insert(rows, { t("label_failed_run"), ("%d: %s"):format(i, why) })
    end
  end
  local d = task.diagnostics
  if type(d) == "table" and d.errors + d.warnings + d.infos > 0 then
    table.insert(rows, { t("label_diagnostics"), t("diagnostics_counts", d.errors, d.warnings, d.infos) })
  end
  if type(task.resultError) == "string" then
    table.insert(rows, { t("label_result"), t("result_refused", format.sanitize(task.resultError)) })
  end
  local lines, marks = {}, {}
  for _, r in ipairs(rows) do
    -- Right-aligned by screen cells (a Chinese label is two per character).
    local label = (" "):rep(math.max(0, 12 - vim.fn.strdisplaywidth(r[1]))) .. r[1]
    table.insert(lines, ("%s  %s"):format(label, r[2]))
    table.insert(marks, { #lines - 1, 0, #label, "ErrandLabel" })
  end
  local value_at = #lines[1] - #rows[1][2]
  marks[1] = { 0, value_at, value_at + #(icons[task.status] or ""), highlights.status[task.status] }
  if result ~= nil and result ~= vim.NIL then
    table.insert(lines, "")
    table.insert(lines, t("result_rule"))
    table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
    local shown = {}
    pretty(result, "", "", shown)
    for i = 1, math.min(#shown, RESULT_LINES) do
      table.insert(lines, format.sanitize(shown[i]))
    end
    if #shown > RESULT_LINES then
      table.insert(lines, ("… %d more (errand result %s)"):format(#shown - RESULT_LINES, task.id))
    end
  end
  table.insert(lines, "")
  table.insert(lines, t("output_rule"))
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
  vim.list_extend(lines, vim.split(tail or "", "\n", { plain = true }))
  table.insert(lines, "")
  table.insert(lines, t("details_hint"))
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
  return lines, marks
end

return M
