--- :checkhealth errand
local M = {}

function M.check()
  local h = vim.health
  h.start("errand")
  if vim.fn.has("nvim-0.10") == 0 then
    h.error("Neovim 0.10 or newer is needed")
  end
  local client = require("errand.client")
  local protocol = require("errand.protocol")
  local bin = client.binary()
  if not bin then
    h.error(
      "errand binary not found",
      { "cargo install --path . in the errand checkout", "or set binary in require('errand').setup()" }
    )
    return
  end
  local out = vim.system({ bin, "--version" }, { text = true }):wait()
  if out.code ~= 0 then
    h.error(("%s --version failed: %s"):format(bin, out.stderr or ""))
    return
  end
  h.ok(("binary: %s (%s)"):format(bin, vim.trim(out.stdout)))
  local params = { clientName = "nvim-health", protocolVersion = protocol.version }
  local err, res = client.request_sync("initialize", params, 3000)
  if err or not res then
    h.error("errand serve did not answer: " .. (err and err.message or "no result"))
    return
  end
  if res.protocolVersion ~= protocol.version then
    h.error(
      ("protocol version %s, this plugin speaks %d: update one of them"):format(res.protocolVersion, protocol.version)
    )
  else
    h.ok(("server: errand %s, protocol %d"):format(res.version, res.protocolVersion))
  end
  if vim.uv.fs_access(res.dataDir, "W") then
    h.ok("task store writable: " .. res.dataDir)
  else
    h.error("task store not writable: " .. res.dataDir)
  end
  h.info(
    ("parallel limit %d, %d running, %d queued, %d failed"):format(
      res.limits.parallel,
      res.counts.running,
      res.counts.queued,
      res.counts.failed
    )
  )
end

return M
