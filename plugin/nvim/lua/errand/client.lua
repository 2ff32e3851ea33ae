--- The session with `errand serve`: started on first use, restarted with
--- backoff if it dies, introduced with `initialize` on every start, and the
--- one place server notifications arrive. Every module talks to the server
--- through here, so whichever command comes first, the session is whole.
local config = require("errand.config")
local popups = require("errand.popups")
local protocol = require("errand.protocol")
local rpc = require("errand.rpc")
local state = require("errand.state")

local M = {}

local conn = nil ---@type errand.Connection?
local started_at = 0
local backoff_ms = 0
local restart_timer = nil
local generation = 0
local warned_version = false
--- Set by stop(): no restart after the server exits.
M.stopping = false
--- Run after every successful `initialize` (a restarted server too), by name.
---@type table<string, fun()>
M.on_initialized = {}

--- Where the plugin lives: plugin/nvim/lua/errand/client.lua -> the checkout root.
local function checkout_root()
  local src = debug.getinfo(1, "S").source:sub(2)
  return vim.fn.fnamemodify(src, ":p:h:h:h:h:h")
end

--- The errand binary: the setting, then $PATH, then this checkout's build.
---@return string?
function M.binary()
  local b = config.options.binary
  if b and b ~= "" then
    return vim.fn.exepath(b) ~= "" and vim.fn.exepath(b) or nil
  end
  local on_path = vim.fn.exepath("errand")
  if on_path ~= "" then
    return on_path
  end
  for _, build in ipairs({ "release", "debug" }) do
    local p = checkout_root() .. "/target/" .. build .. "/errand"
    if vim.fn.executable(p) == 1 then
      return p
    end
  end
  return nil
end

--- What each server notification does.
---@type table<errand.NotificationMethod, fun(params: table)>
local on_notification = {
  ["task/queued"] = function(p)
    state.update(p.task)
  end,
  ["task/started"] = function(p)
    state.update(p.task)
    require("errand.diagnostics").started(p.task)
  end,
  ["task/updated"] = function(p)
    state.update(p.task)
  end,
  ["task/ready"] = function(p)
    state.update(p.task)
    popups.ready(p.task)
  end,
  ["task/diagnosticsChanged"] = function(r)
    state.update(r.task)
    require("errand.diagnostics").cycle(r)
    require("errand.quickfix").cycle(r)
  end,
  ["task/progress"] = function(p)
    state.progress(p)
  end,
  ["task/finished"] = function(p)
    state.update(p.task)
    popups.finished(p.task, p.outputTail)
    require("errand.quickfix").finished(p.task)
    require("errand.diagnostics").finished(p.task)
  end,
  ["counts/changed"] = function(c)
    state.set_counts(c)
  end,
  ["task/outputAppended"] = function(ev)
    state.output(ev)
  end,
}

local function schedule_restart()
  if restart_timer then
    return
  end
  -- Died soon after starting: wait longer each time (up to 10 s).
  if vim.uv.now() - started_at < 10000 then
    backoff_ms = math.min(math.max(backoff_ms * 2, 200), 10000)
  else
    backoff_ms = 200
  end
  restart_timer = vim.defer_fn(function()
    restart_timer = nil
    M.ensure()
  end, backoff_ms)
end

--- Introduce ourselves: counts, server facts, and what finished unread.
local function initialize()
  local params = { clientName = "nvim", clientVersion = tostring(vim.version()), protocolVersion = protocol.version }
  M.request("initialize", params, function(err, res)
    if err or not res then
      return
    end
    state.server = { pid = res.pid, version = res.version, protocol = res.protocolVersion, data_dir = res.dataDir }
    state.set_counts(res.counts, true)
    if res.protocolVersion ~= protocol.version and not warned_version then
      warned_version = true
      vim.notify(
        ("errand: the server speaks protocol %d, this plugin %d: update errand or the plugin"):format(
          res.protocolVersion,
          protocol.version
        ),
        vim.log.levels.WARN,
        { title = "errand" }
      )
    end
    popups.startup(res.unread or {}, res.unreadTotal, res.unreadFailed)
    require("errand.diagnostics").catch_up()
    require("errand.watches").refresh()
    for _, fn in pairs(M.on_initialized) do
      fn()
    end
  end)
end

--- Start the server if it is not running. Returns false (and why) if it cannot.
---@return boolean ok, string? why
function M.ensure()
  if conn and not conn.is_closing() then
    return true
  end
  local bin = M.binary()
  if not bin then
    return false, "errand binary not found (set binary in require('errand').setup, or put errand on $PATH)"
  end
  generation = generation + 1
  local mine = generation
  local c, why = rpc.start({ bin, "serve" }, function(method, params)
    local handler = on_notification[method]
    if handler then
      handler(params)
    end
    require("errand.watches").on_notification(method)
  end, function()
    if mine ~= generation then
      return
    end
    conn = nil
    if not M.stopping then
      schedule_restart()
    end
  end)
  if not c then
    return false, why
  end
  conn = c
  started_at = vim.uv.now()
  initialize()
  return true
end

--- Send a request; cb(err, result) is always called, exactly once.
---@param method errand.Method
---@param params table?
---@param cb fun(err: table?, result: any)?
function M.request(method, params, cb)
  cb = cb or function() end
  local ok, why = M.ensure()
  if not ok or not conn then
    vim.schedule(function()
      cb({ code = -32099, message = why or "errand server is not running" })
    end)
    return
  end
  conn.request(method, params or vim.empty_dict(), cb)
end

--- Wait for an answer (for completion and :checkhealth). Returns err, result.
---@param method errand.Method
function M.request_sync(method, params, timeout_ms)
  local done, e, r = false, nil, nil
  M.request(method, params, function(err, result)
    done, e, r = true, err, result
  end)
  vim.wait(timeout_ms or 2000, function()
    return done
  end, 5)
  if not done then
    return { code = -32098, message = "timed out" }, nil
  end
  return e, r
end

function M.is_running()
  return conn ~= nil and not conn.is_closing()
end

--- Stop the server for good (tests; Neovim's exit closes it anyway).
function M.stop()
  M.stopping = true
  if conn then
    conn.terminate()
  end
end

return M
