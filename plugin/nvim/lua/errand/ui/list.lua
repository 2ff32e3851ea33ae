--- The list view of the tasks window: sections by status, a row per task,
--- and a "more" row under a section with tasks not loaded yet.
local config = require("errand.config")
local format = require("errand.format")
local highlights = require("errand.highlights")
local state = require("errand.state")
local t = require("errand.messages").t

local M = {}

--- Each titled by the word of its key (messages.lua).
local sections = {
  running = { statuses = { "running" }, always = true },
  queued = { statuses = { "queued" }, always = true },
  completed = { statuses = { "completed" }, always = true },
  failed = { statuses = { "failed", "lost" }, always = true },
  cancelled = { statuses = { "cancelled" } },
}

--- The sections in the order they are shown.
M.section_keys = { "running", "queued", "completed", "failed", "cancelled" }

--- The statuses a section shows.
---@param key string
---@return errand.Status[]
function M.statuses(key)
  return sections[key].statuses
end

--- How long a task took, or has been running so far.
---@param task errand.Task
local function took(task)
  return format.duration(format.duration_ms(task))
end

--- Lines, highlights ({row, col, end_col, group}) and what each row is
--- (a task's id, {more = section} for a section with more to load, or
--- {watch = id} for an open watch).
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
  for _, task in ipairs(state.list(passes)) do
    by_status[task.status] = by_status[task.status] or {}
    table.insert(by_status[task.status], task)
  end
  -- Watches first: each one a row, its latest run's state beside it.
  local watches = require("errand.watches").list
  if #watches > 0 then
    table.insert(lines, ("%s (%d)"):format(t("watching"), #watches))
    table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
    for _, w in ipairs(watches) do
      local last = w.lastRun
      local name = last and last.name or table.concat(w.paths, ", ")
      local runs = t(w.runs == 1 and "watch_run" or "watch_runs", w.runs)
      local outcome = last and ((icons[last.status] or "") .. " " .. t("status_" .. last.status)) or ""
      if w.state == "lost" then
        outcome = t("watch_lost")
      end
      local when = format.relative(w.createdAt)
      when = (" "):rep(math.max(0, 10 - vim.fn.strdisplaywidth(when))) .. when
      local line = ("  %s %s  %s %s  %s · %s"):format(
        icons.watching,
        w.id,
        format.fit(name, name_width),
        when,
        runs,
        outcome
      )
      table.insert(lines, line)
      rows[#lines] = { watch = w.id }
      table.insert(marks, { #lines - 1, 2, 2 + #icons.watching, "ErrandSection" })
    end
    table.insert(lines, "")
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
      table.insert(lines, ("%s (%d%s)"):format(t(key), #items, has_more and "+" or ""))
      table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandSection" })
      for _, task in ipairs(items) do
        local when = format.relative(task.endedAt or task.startedAt or task.createdAt)
        local extra = took(task)
        if (task.exitCode and task.exitCode ~= 0) or (task.signal and task.status ~= "cancelled") then
          extra = extra .. "  " .. format.why(task)
        end
        local progress = task.status == "running" and format.progress(task) or ""
        if progress ~= "" then
          extra = extra .. "  " .. progress
        end
        if type(task.pausedAt) == "number" then
          extra = extra .. "  " .. t("status_paused")
        elseif type(task.readyAt) == "number" and task.status == "running" then
          extra = extra .. "  " .. t("status_ready")
        end
        local icon = (type(task.pausedAt) == "number" and icons.paused)
          or (type(task.readyAt) == "number" and task.status == "running" and icons.ready)
          or icons[task.status]
          or " "
        when = (" "):rep(math.max(0, 10 - vim.fn.strdisplaywidth(when))) .. when
        local line = ("  %s %s  %s %s  %s"):format(icon, task.id, format.fit(task.name, name_width), when, extra)
        table.insert(lines, line)
        rows[#lines] = task.id
        table.insert(marks, { #lines - 1, 2, 2 + #icon, highlights.status[task.status] })
        if task.readAt and not state.is_active(task) then
          table.insert(marks, { #lines - 1, 2 + #icon, #line, "ErrandDim" })
        end
      end
      if has_more then
        table.insert(lines, "  " .. t("more_row"))
        rows[#lines] = { more = key }
        table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
      end
      table.insert(lines, "")
    end
  end
  -- `?` first: in a narrow window the rest is cut, not the way to it.
  table.insert(lines, vim.trim(format.fit(t("keys_hint"), width)))
  table.insert(marks, { #lines - 1, 0, #lines[#lines], "ErrandDim" })
  return lines, marks, rows
end

return M
