--- errand for Neovim: run commands and workflows in the background, get a
--- popup when they finish, see them in a window and in your statusline.
--- Everything loads on first use; setup() is optional. :help errand
local M = {}

local function mod(name)
  return require("errand." .. name)
end

--- Optional: override defaults (see :help errand-configuration).
function M.setup(opts)
  mod("config").set(opts)
end

local status_started = false

--- For any statusline: "2 running · 1 failed", "" when idle. Cheap: a
--- cached string, refreshed by the server's notifications. The first call
--- starts the server (on the next tick, never inside a redraw).
function M.status()
  if not status_started then
    status_started = true
    vim.schedule(function()
      mod("rpc").ensure()
    end)
  end
  return mod("tasks").status()
end

local function report(err)
  if err then
    vim.notify("errand: " .. (err.message or tostring(err)), vim.log.levels.ERROR, { title = "errand" })
    return true
  end
end

--- Run a shell command in the background. opts: name, cwd, env. cb(task).
function M.run(cmd, opts, cb)
  opts = opts or {}
  local params = { command = cmd, name = opts.name, cwd = opts.cwd or vim.fn.getcwd(), env = opts.env }
  mod("rpc").request("task/run", params, function(err, task)
    if not report(err) then
      task = mod("tasks").merge(task)
      if cb then
        cb(task)
      end
    end
  end)
end

--- Run a workflow (errand.toml or the user config) by name.
function M.run_workflow(name, cb)
  mod("rpc").request("task/run", { workflow = name, cwd = vim.fn.getcwd() }, function(err, task)
    if not report(err) and cb then
      cb(task)
    end
  end)
end

--- Open the tasks window.
function M.list()
  mod("ui").open_list()
end

function M.cancel(id)
  mod("rpc").request("task/cancel", { id = id }, function(err)
    report(err)
  end)
end

function M.restart(id, cb)
  mod("rpc").request("task/restart", { id = id }, function(err, task)
    if not report(err) and cb then
      cb(task)
    end
  end)
end

--- Open a task's output in a split (following it while it runs).
function M.output(id)
  return mod("ui").open_output(id)
end

--- Mark finished tasks read: failures leave the statusline.
function M.clear()
  mod("rpc").request("task/markRead", { all = true }, function(err)
    report(err)
  end)
end

--- Known tasks by id (kept current by notifications).
function M.tasks()
  return mod("tasks").by_id
end

return M
