--- What the plugin knows: tasks by id and the counts, kept current by the
--- server's notifications, and the statusline string made from them.
--- Views subscribe to changes; nothing here talks to the server.
local M = {}

---@type table<string, errand.Task>
M.by_id = {}
---@type errand.Counts
M.counts = { running = 0, queued = 0, watching = 0, failed = 0, seq = 0 }
--- Facts from `initialize`: pid, version, protocol, data_dir.
M.server = nil
--- Listeners of any task change (the tasks window), by name.
---@type table<string, fun(task: errand.Task?)>
M.listeners = {}
--- Output listeners by task id (output buffers).
---@type table<string, fun(ev: errand.OutputEvent)>
M.output_listeners = {}

local status_text = ""

--- The statusline's parts ("2 running", "1 failed"), by what they count.
local status_parts = {}

local function emit_status()
  local t = require("errand.messages").t
  local c = M.counts
  status_parts = {}
  for _, what in ipairs({ "running", "queued", "watching", "failed" }) do
    if c[what] > 0 then
      table.insert(status_parts, { what = what, text = t("count_" .. what, c[what]) })
    end
  end
  status_text = table.concat(
    vim.tbl_map(function(p)
      return p.text
    end, status_parts),
    " · "
  )
  vim.api.nvim_exec_autocmds("User", { pattern = "ErrandStatus", modeline = false })
  -- Every window's statusline: the focused one may be the tasks window.
  vim.cmd("redrawstatus!")
end

--- For statuslines: "2 running · 1 failed", "" when idle. With
--- `progress`, the running task that will end last adds its progress:
--- "1 running 45% · 1m04s left".
---@param opts { progress: boolean? }?
function M.status(opts)
  if not (opts and opts.progress) or M.counts.running == 0 then
    return status_text
  end
  local last
  for _, t in pairs(M.by_id) do
    local eta = function(x)
      return type(x.etaAt) == "number" and x.etaAt or math.huge
    end
    -- The one to end last, by its progress or its history.
    if t.status == "running" and (t.progress or type(t.etaAt) == "number") and (not last or eta(t) > eta(last)) then
      last = t
    end
  end
  if not last then
    return status_text
  end
  local parts = {}
  for _, p in ipairs(status_parts) do
    table.insert(parts, p.what == "running" and (p.text .. " " .. require("errand.format").progress(last)) or p.text)
  end
  return table.concat(parts, " · ")
end

--- Counts from the server. Of two, the one read at the later store change
--- (`seq`) wins, whatever order they arrive in; `fresh` (a new connection's
--- `initialize`) starts over.
---@param c errand.Counts?
---@param fresh boolean?
function M.set_counts(c, fresh)
  if not c or (not fresh and (c.seq or 0) < (M.counts.seq or 0)) then
    return
  end
  M.counts = {
    running = c.running or 0,
    queued = c.queued or 0,
    -- Open watches (`errand run --watch`); a server older than them sends none.
    watching = c.watching or 0,
    failed = c.failed or 0,
    seq = c.seq or 0,
  }
  emit_status()
end

local function changed(task)
  for _, fn in pairs(M.listeners) do
    fn(task)
  end
end

--- Something other than a task changed (the open watches): redraw.
function M.emit_change()
  changed(nil)
end

--- A task as a notification says it is now.
---@param task errand.Task
function M.update(task)
  M.by_id[task.id] = task
  changed(task)
end

local rank = { queued = 1, running = 2 }

--- A task from a response (task/run, task/list). Notifications may have
--- overtaken the response: never step a task back (running -> queued).
---@param task errand.Task
---@return errand.Task
function M.merge(task)
  local known = M.by_id[task.id]
  if not known or (rank[task.status] or 3) >= (rank[known.status] or 3) then
    M.by_id[task.id] = task
  end
  return M.by_id[task.id]
end

---@param p errand.ProgressEvent
function M.progress(p)
  local t = M.by_id[p.id]
  if t then
    t.progress, t.progressMessage, t.etaAt = p.progress, p.progressMessage, p.etaAt
    changed(t)
  end
end

---@param ev errand.OutputEvent
function M.output(ev)
  local fn = M.output_listeners[ev.id]
  if fn then
    fn(ev)
  end
end

--- Known tasks that are not deleted, newest first (optionally filtered).
---@param filter (fun(t: errand.Task): boolean)?
---@return errand.Task[]
function M.list(filter)
  local list = {}
  for _, t in pairs(M.by_id) do
    if t.deletedAt == nil and (not filter or filter(t)) then
      table.insert(list, t)
    end
  end
  table.sort(list, function(a, b)
    return a.createdAt > b.createdAt
  end)
  return list
end

function M.is_active(t)
  return t.status == "running" or t.status == "queued"
end

return M
