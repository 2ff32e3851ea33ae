--- A finished task's compiler and linter messages through |vim.diagnostic|:
--- one namespace per task name ("errand:<name>"), so a rerun of `make`
--- replaces make's messages and leaves the linter's alone. Published when
--- the server counted any in the output (`task.diagnostics`), cleared the
--- moment a task of that name starts again, and replaced at each compile
--- cycle of a watch-mode tool (`tsc --watch`). Matching runs in the server.
local M = {}

--- Namespace per task name, created on first use.
---@type table<string, integer>
local namespaces = {}
--- Starts and compile cycles seen per task name: a load that a newer one
--- overtook is dropped.
---@type table<string, integer>
local changes = {}

---@param name string
local function changed(name)
  changes[name] = (changes[name] or 0) + 1
end

---@param name string
local function changes_of(name)
  return changes[name] or 0
end

---@param name string
---@return integer
function M.namespace(name)
  if not namespaces[name] then
    namespaces[name] = vim.api.nvim_create_namespace("errand:" .. name)
  end
  return namespaces[name]
end

---@param task errand.Task
local function counted(task)
  local c = task.diagnostics -- null arrives as nil (rpc.lua)
  return c ~= nil and (c.errors + c.warnings + c.infos) > 0
end

local severities = {
  error = vim.diagnostic.severity.ERROR,
  warning = vim.diagnostic.severity.WARN,
  info = vim.diagnostic.severity.INFO,
}

--- Diagnostics from a task/diagnostics result, per buffer (files not open
--- get an unloaded buffer, as the quickfix list does).
---@param result errand.DiagnosticsResult
---@return table<integer, vim.Diagnostic[]>
function M.by_buffer(result)
  local out = {}
  for _, d in ipairs(result.diagnostics) do
    local buf = vim.fn.bufadd(d.file)
    out[buf] = out[buf] or {}
    table.insert(out[buf], {
      lnum = math.max(d.line - 1, 0),
      col = d.column and math.max(d.column - 1, 0) or 0,
      severity = severities[d.severity] or vim.diagnostic.severity.ERROR,
      message = d.message,
      source = "errand: " .. d.source,
      code = d.code,
    })
  end
  return out
end

--- Put a result's messages in the task name's namespace, in place of its last.
---@param name string
---@param result errand.DiagnosticsResult
local function publish(name, result)
  local ns = M.namespace(name)
  vim.diagnostic.reset(ns)
  for buf, list in pairs(M.by_buffer(result)) do
    vim.diagnostic.set(ns, buf, list)
  end
end

--- A task of this name started: its old messages are gone.
---@param task errand.Task
function M.started(task)
  changed(task.name)
  if namespaces[task.name] then
    vim.diagnostic.reset(namespaces[task.name])
  end
end

--- Ask for a task's messages and publish them, unless a newer run of its
--- name started, or a newer cycle came, since `before` (default: now).
---@param task errand.Task
---@param before integer?
local function load(task, before)
  before = before or changes_of(task.name)
  require("errand.client").request("task/diagnostics", { id = task.id }, function(err, result)
    if err or changes_of(task.name) ~= before then
      return -- gone, or overtaken meanwhile
    end
    publish(task.name, result)
  end)
end

--- A task finished: publish what the server counted in its output.
---@param task errand.Task
function M.finished(task)
  if require("errand.config").options.diagnostics.publish and counted(task) then
    load(task)
  end
end

--- After (re)connecting: the messages of running watch-mode tools' last
--- cycles (a running task has counts once a cycle ended), which no
--- notification repeats before their next cycle; none clears stale ones.
function M.catch_up()
  if not require("errand.config").options.diagnostics.publish then
    return
  end
  local before = vim.deepcopy(changes)
  require("errand.client").request("task/list", { status = { "running" } }, function(err, res)
    for _, task in ipairs(not err and res and res.tasks or {}) do
      if task.diagnostics ~= nil then
        load(task, before[task.name] or 0)
      end
    end
  end)
end

--- A watch-mode tool's compile cycle ended: its messages replace the last
--- cycle's (none left clears them).
---@param result errand.DiagnosticsResult
function M.cycle(result)
  changed(result.task.name)
  if require("errand.config").options.diagnostics.publish then
    publish(result.task.name, result)
  end
end

return M
