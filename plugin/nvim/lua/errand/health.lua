--- :checkhealth errand
local M = {}

function M.check()
  local h = vim.health
  h.start("errand")
  if vim.fn.has("nvim-0.10") == 0 then
    h.error("Neovim 0.10 or newer is needed")
  end
  local rpc = require("errand.rpc")
  local bin = rpc.binary()
  if not bin then
    h.error("errand binary not found", { "cargo install --path . in the errand checkout", "or set binary in require('errand').setup()" })
    return
  end
  local out = vim.system({ bin, "--version" }, { text = true }):wait()
  if out.code ~= 0 then
    h.error(("%s --version failed: %s"):format(bin, out.stderr or ""))
    return
  end
  h.ok(("binary: %s (%s)"):format(bin, vim.trim(out.stdout)))
  local err, res = rpc.request_sync("initialize", { client_name = "nvim-health" }, 3000)
  if err or not res then
    h.error("errand serve did not answer: " .. (err and err.message or "no result"))
    return
  end
  if res.protocol_version ~= 1 then
    h.error(("protocol version %s, this plugin speaks 1: update one of them"):format(res.protocol_version))
  else
    h.ok(("server: errand %s, protocol %d"):format(res.version, res.protocol_version))
  end
  if vim.uv.fs_access(res.data_dir, "W") then
    h.ok("task store writable: " .. res.data_dir)
  else
    h.error("task store not writable: " .. res.data_dir)
  end
  h.info(("parallel limit %d, %d running, %d queued, %d failed"):format(
    res.limits.parallel, res.counts.running, res.counts.queued, res.counts.failed))
end

return M
