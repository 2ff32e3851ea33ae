--- errand for Neovim: run commands and workflows in the background, get a
--- popup when they finish, see them in a window and in your statusline.
--- Everything loads on first use; setup() is optional. :help errand
local M = {}

--- Optional: override defaults (see :help errand-configuration).
---@param opts table?
function M.setup(opts)
  require("errand.config").set(opts)
end

local status_started = false

--- For any statusline: "2 running · 1 failed", "" when idle. Cheap: a
--- cached string, refreshed by the server's notifications. The first call
--- starts the server (on the next tick, never inside a redraw).
--- `{ progress = true }` adds the progress of the running task that ends
--- last: "1 running 45% · 1m04s left".
---@param opts { progress: boolean? }?
---@return string
function M.status(opts)
  if not status_started then
    status_started = true
    vim.schedule(function()
      require("errand.client").ensure()
    end)
  end
  return require("errand.state").status(opts)
end

local function report(err)
  if err then
    vim.notify("errand: " .. (err.message or tostring(err)), vim.log.levels.ERROR, { title = "errand" })
    return true
  end
end

--- Ask the server; errors become a popup, results go to `cb`.
---@param method errand.Method
local function ask(method, params, cb)
  require("errand.client").request(method, params, function(err, result)
    if not report(err) and cb then
      cb(result)
    end
  end)
end

--- Where and with what a task starts: this window's directory and
--- Neovim's environment as it is now (`:let $VAR`, a changed PATH), as
--- `:!` would run it.
local function context()
  local env = vim.fn.environ()
  return { clientCwd = vim.fn.getcwd(), clientEnv = next(env) and env or vim.empty_dict() }
end

--- Run a shell command in the background. opts: name, cwd, env,
--- timeout_ms, matcher, retry (reruns of a failed run), retry_delay_ms. cb(task).
---@param cmd string
---@param opts { name: string?, cwd: string?, env: table<string, string>?, timeout_ms: integer?, matcher: string?, retry: integer?, retry_delay_ms: integer? }?
---@param cb fun(task: errand.Task)?
function M.run(cmd, opts, cb)
  opts = opts or {}
  local params = vim.tbl_extend("force", context(), {
    command = cmd,
    name = opts.name,
    cwd = opts.cwd,
    env = opts.env,
    timeoutMs = opts.timeout_ms,
    matcher = opts.matcher,
    retry = opts.retry,
    retryDelayMs = opts.retry_delay_ms,
    group = opts.group,
  })
  ask("task/run", params, function(task)
    task = require("errand.state").merge(task)
    if cb then
      cb(task)
    end
  end)
end

--- Run a workflow (errand.toml or the user config) by name. cb(task).
---@param name string
---@param cb fun(task: errand.Task)?
function M.run_workflow(name, cb)
  ask("task/run", vim.tbl_extend("force", context(), { workflow = name }), cb)
end

--- Open the tasks window.
function M.list()
  require("errand.ui.window").open()
end

---@param id string
function M.cancel(id)
  ask("task/cancel", { id = id })
end

---@param id string
---@param cb fun(task: errand.Task)?
function M.restart(id, cb)
  ask("task/restart", { id = id }, cb)
end

--- Open a task's output in a terminal split, following it while it runs
--- (the same window again if one shows it). `mods`: "vertical", "tab"...
---@param id string an id or a unique prefix
---@param mods string?
---@param cb fun(buf: integer)? once it shows
function M.output(id, mods, cb)
  require("errand.ui.output").open(id, mods, cb)
end

--- Mark finished tasks read: failures leave the statusline.
function M.clear()
  ask("task/markRead", { all = true })
end

--- Known tasks by id (kept current by notifications).
---@return table<string, errand.Task>
function M.tasks()
  return require("errand.state").by_id
end

return M
