--- The list view of the tasks window: sections by status, a row per task,
--- and a "more" row under a section with tasks not loaded yet.
local config = require("errand.config")
local format = require("errand.format")
local highlights = require("errand.highlights")
local state = require("errand.state")

local M = {}

local sections = {
  running = { title = "Running", statuses = { "running" }, always = true },
  queued = { title = "Queued", statuses = { "queued" }, always = true },
  completed = { title = "Completed", statuses = { "completed" }, always = true },
  failed = { title = "Failed", statuses = { "failed", "lost" }, always = true },
  cancelled = { title = "Cancelled", statuses = { "cancelled" } },
}

--- The sections in the order they are shown.
M.section_keys = { "running", "queued", "completed", "failed", "cancelled" }

--- The statuses a section shows.
---@param key string
---@return errand.Status[]
function M.statuses(key)
  return sections[key].statuses
end

--- `?` first: in a narrow window the rest is cut, not the way to it.
M.keys_hint = "? help  <CR> details  c cancel  r restart  d delete  o output  / filter  u unread  q close"

--- How long a task took, or has been running so far.
---@param t errand.Task
local function took(t)
  if t.durationMs then
    return format.duration(t.durationMs)
  elseif t.status == "running" and t.startedAt then
    return format.duration(math.max(0, format.now_ms() - t.startedAt))
  end
  return ""
end

--- Lines, highlights ({row, col, end_col, group}) and what each row is
--- (a task's id, or {more = section} for a section with more to load).
---@param more table<string, string?> the sections with more tasks to load
---@param width integer the window's width: rows never wrap
---@param passes (fun(t: errand.Task): boolean)? the window's filters
---@return string[] lines, table[] marks, table<integer, string|table> rows
function M.render(more, width, passes)
  local icons = config.options.icons
  -- Beside the name: icon, id, when and how long (about 40 cells).
  local name_width = math.max(10, width - 42)
  local lines, marks, rows = {}, {}, {}
  local by_status = {}
  for _, t in ipairs(state.list(passes)) do
    by_status[t.status] = by_status[t.status] or {}
    table.insert(by_status[t.status], t)
  end
  for _, key in ipairs(M.section_keys) do
    local sec = sections[key]
    local items = {}
    for _, status in ipairs(sec.statuses) do
      vim.list_extend(items, by_status[status] or {})
    end
    if #sec.statuses > 1 then
      table.sort(items, function(a, b)
        return a.createdAt > b.createdAt
      end)
    end
    local has_more = more[key] ~= nil
    if #items > 0 or sec.always or has_more then
      table.insert(lines, ("%s (%d%s)"):format(sec.title, #items, has_more and "+" or ""))
      table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
      for _, t in ipairs(items) do
        local when = format.relative(t.endedAt or t.startedAt or t.createdAt)
        local extra = took(t)
        if t.exitCode and t.exitCode ~= 0 then
          extra = extra .. "  exit " .. t.exitCode
        elseif t.signal and t.status ~= "cancelled" then
          extra = extra .. "  signal " .. t.signal
        end
        if t.progress and t.status == "running" then
          extra = extra .. "  " .. format.progress(t)
        end
        local icon = icons[t.status] or " "
        local line = ("  %s %s  %s %8s  %s"):format(icon, t.id, format.fit(t.name, name_width), when, extra)
        table.insert(lines, line)
        rows[#lines] = t.id
        table.insert(marks, { #lines - 1, 2, 2 + #icon, highlights.status[t.status] })
        if t.readAt and not state.is_active(t) then
          table.insert(marks, { #lines - 1, 2 + #icon, #line, "ErrandDim" })
        end
      end
      if has_more then
        table.insert(lines, "  … more (<CR> loads them)")
        rows[#lines] = { more = key }
        table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
      end
      table.insert(lines, "")
    end
  end
  table.insert(lines, vim.trim(format.fit(M.keys_hint, width)))
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
  return lines, marks, rows
end

return M
