--- The one adapter around vim.lsp.rpc: starts `errand serve` lazily, fails
--- pending requests when it dies (vim.lsp.rpc never calls them), and
--- restarts it with backoff.
local config = require("errand.config")

local M = {}

local client = nil ---@type vim.lsp.rpc.PublicClient?
local pending = {} ---@type table<integer, fun(err: table?, result: any)>
local handlers = {} ---@type table<string, fun(params: any)>
local on_start = {} ---@type fun()[]
local started_at = 0
local backoff_ms = 0
local restart_timer = nil
local generation = 0

--- Where the plugin lives: plugin/nvim/lua/errand/rpc.lua -> the checkout root.
local function checkout_root()
  local src = debug.getinfo(1, "S").source:sub(2)
  return vim.fn.fnamemodify(src, ":p:h:h:h:h:h")
end

--- The errand binary: the setting, then $PATH, then this checkout's build.
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

--- Register the handler of a server notification.
function M.on(method, fn)
  handlers[method] = fn
end

--- Run fn after every (re)start, once the server is up.
function M.on_start(fn)
  table.insert(on_start, fn)
end

local function fail_pending(message)
  local waiting = pending
  pending = {}
  for _, cb in pairs(waiting) do
    cb({ code = -32099, message = message })
  end
end

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

--- Start the server if it is not running. Returns false (and why) if it cannot.
function M.ensure()
  if client and not client.is_closing() then
    return true
  end
  local bin = M.binary()
  if not bin then
    return false, "errand binary not found (set binary in require('errand').setup, or put errand on $PATH)"
  end
  generation = generation + 1
  local my_generation = generation
  local ok, c = pcall(vim.lsp.rpc.start, { bin, "serve" }, {
    notification = function(method, params)
      local h = handlers[method]
      if h then
        h(params)
      end
    end,
    server_request = function()
      return nil, { code = -32601, message = "errand's client answers no requests" }
    end,
    on_exit = function(code, signal)
      -- A fast context: leave it before touching the API.
      vim.schedule(function()
        if my_generation ~= generation then
          return
        end
        client = nil
        fail_pending(("errand server exited (code %s, signal %s)"):format(code, signal))
        if not M.stopping then
          schedule_restart()
        end
      end)
    end,
    on_error = function() end,
  })
  if not ok then
    return false, tostring(c)
  end
  client = c
  started_at = vim.uv.now()
  for _, fn in ipairs(on_start) do
    fn()
  end
  return true
end

--- Send a request; cb(err, result) is always called, exactly once.
function M.request(method, params, cb)
  cb = cb or function() end
  local ok, why = M.ensure()
  if not ok then
    vim.schedule(function()
      cb({ code = -32099, message = why })
    end)
    return
  end
  local id
  local sent, rid = client.request(method, params or vim.empty_dict(), function(err, result)
    if id and pending[id] then
      pending[id] = nil
      cb(err, result)
    end
  end)
  if not sent then
    vim.schedule(function()
      cb({ code = -32099, message = "errand server is not reachable" })
    end)
    return
  end
  id = rid
  pending[id] = cb
end

--- Wait for an answer (for completion and :checkhealth). Returns err, result.
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
  return client ~= nil and not client.is_closing()
end

--- The server's pid (tests, :checkhealth), if it runs.
function M.stop()
  M.stopping = true
  if client then
    client.terminate()
  end
end

return M
