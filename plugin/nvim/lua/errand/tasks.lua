--- What the plugin knows of tasks and counts, kept current by the
--- server's notifications; popups and the statusline string come from here.
local config = require("errand.config")
local rpc = require("errand.rpc")

local M = {}

M.by_id = {} ---@type table<string, table>
M.counts = { running = 0, queued = 0, failed = 0 }
--- Listeners of any task change (the tasks window, the details view).
M.listeners = {} ---@type table<string, fun(task: table?)>
--- Output listeners by task id (output buffers).
M.output_listeners = {} ---@type table<string, fun(ev: table)>

local status_text = ""

local function emit_status()
  local c = M.counts
  local parts = {}
  if c.running > 0 then
    table.insert(parts, c.running .. " running")
  end
  if c.queued > 0 then
    table.insert(parts, c.queued .. " queued")
  end
  if c.failed > 0 then
    table.insert(parts, c.failed .. " failed")
  end
  status_text = table.concat(parts, " · ")
  vim.api.nvim_exec_autocmds("User", { pattern = "ErrandStatus", modeline = false })
  vim.cmd("redrawstatus")
end

function M.status()
  return status_text
end

function M.set_counts(c)
  if c then
    M.counts = { running = c.running or 0, queued = c.queued or 0, failed = c.failed or 0 }
    emit_status()
  end
end

local rank = { queued = 1, running = 2 }

--- Take a task from a response (task/run, task/list). Notifications may
--- have overtaken the response: never step a task back (running -> queued).
function M.merge(task)
  local known = M.by_id[task.id]
  if not known or (rank[task.status] or 3) >= (rank[known.status] or 3) then
    M.by_id[task.id] = task
  end
  return M.by_id[task.id]
end

--- Known tasks that are not deleted, newest first (optionally filtered).
function M.list(filter)
  local list = {}
  for _, t in pairs(M.by_id) do
    if (t.deleted_at == nil or t.deleted_at == vim.NIL) and (not filter or filter(t)) then
      table.insert(list, t)
    end
  end
  table.sort(list, function(a, b)
    return a.created_at > b.created_at
  end)
  return list
end

local function changed(task)
  if task then
    M.by_id[task.id] = task
  end
  for _, fn in pairs(M.listeners) do
    fn(task)
  end
end

function M.duration(ms)
  if not ms then
    return ""
  end
  if ms < 60000 then
    return ("%.1fs"):format(ms / 1000)
  elseif ms < 3600000 then
    return ("%dm%02ds"):format(math.floor(ms / 60000), math.floor(ms / 1000) % 60)
  end
  return ("%dh%02dm"):format(math.floor(ms / 3600000), math.floor(ms / 60000) % 60)
end

local function last_lines(text, n)
  local lines = vim.split(vim.trim(text or ""), "\n", { plain = true })
  local from = math.max(1, #lines - n + 1)
  return table.concat(vim.list_slice(lines, from), "\n")
end

--- The popup for a task that ended.
function M.popup(task, tail)
  local n = config.options.notify
  local icons = config.options.icons
  local name = task.name
  if task.status == "completed" and n.on_complete then
    vim.notify(("%s %s (%s)"):format(icons.completed, name, M.duration(task.duration_ms)), vim.log.levels.INFO, { title = "errand" })
  elseif (task.status == "failed" or task.status == "lost") and n.on_failure then
    local why = task.exit_code and ("exit " .. task.exit_code)
      or task.signal and ("signal " .. task.signal)
      or task.status
    local msg = ("%s %s (%s)"):format(icons.failed, name, why)
    local lines = last_lines(tail ~= "" and tail or task.error, n.failure_lines)
    if lines ~= "" then
      msg = msg .. "\n" .. lines
    end
    vim.notify(msg, vim.log.levels.ERROR, { title = "errand" })
  elseif task.status == "cancelled" and n.on_cancel then
    vim.notify(("%s %s cancelled"):format(icons.cancelled, name), vim.log.levels.WARN, { title = "errand" })
  end
end

rpc.on("task/queued", function(p)
  changed(p.task)
end)
rpc.on("task/started", function(p)
  changed(p.task)
end)
rpc.on("task/updated", function(p)
  changed(p.task)
end)
rpc.on("task/progress", function(p)
  local t = M.by_id[p.id]
  if t then
    t.progress, t.progress_message, t.eta_at = p.progress, p.progress_message, p.eta_at
    changed(t)
  end
end)
rpc.on("task/finished", function(p)
  changed(p.task)
  M.popup(p.task, p.output_tail)
end)
rpc.on("counts/changed", function(c)
  M.set_counts(c)
end)
rpc.on("task/outputAppended", function(ev)
  local fn = M.output_listeners[ev.id]
  if fn then
    fn(ev)
  end
end)

--- On every (re)start: introduce ourselves, take the counts, and summarise
--- what finished while Neovim was closed.
rpc.on_start(function()
  rpc.request("initialize", { client_name = "nvim", client_version = tostring(vim.version()) }, function(err, res)
    if err or not res then
      return
    end
    M.server_pid = res.pid
    M.set_counts(res.counts)
    local unread = res.unread or {}
    if #unread > 0 and config.options.notify.on_startup and not M.summarised then
      M.summarised = true
      local icons = config.options.icons
      local parts, ids, level = {}, {}, vim.log.levels.INFO
      for _, t in ipairs(unread) do
        M.merge(t)
        table.insert(parts, ("%s %s"):format(icons[t.status] or "", t.name))
        if t.status == "failed" or t.status == "lost" then
          level = vim.log.levels.WARN -- stays unread: it counts in the statusline until cleared
        else
          table.insert(ids, t.id)
        end
      end
      local head = ("%d task%s finished while Neovim was closed:"):format(#unread, #unread == 1 and "" or "s")
      vim.notify(head .. "\n" .. table.concat(parts, "\n"), level, { title = "errand" })
      if #ids > 0 then
        rpc.request("task/markRead", { ids = ids })
      end
    end
  end)
end)

return M
