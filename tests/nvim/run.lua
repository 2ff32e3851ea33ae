-- The Neovim suite: every test in tests/nvim/test_*.lua, each in a fresh
-- Neovim (child.lua) with its own ERRAND_HOME, XDG folders and cwd, so no
-- test can depend on another one's state or order. Leftover tasks of a
-- test are killed before the next starts.
--   nvim --headless --clean -l tests/nvim/run.lua [PATTERN]
-- Prints one line per test and "N passed, N failed"; exits 1 on failure.
local here = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h")
local nvim = vim.v.progpath
local bin = assert(os.getenv("ERRAND_BIN"), "set ERRAND_BIN")
local pattern = _G.arg[1]
-- The test files require the plugin's modules at load time.
vim.opt.runtimepath:prepend(vim.fn.fnamemodify(here, ":h:h") .. "/plugin/nvim")

--- Kill what a test left running (a `sleep 100` it did not cancel).
local function clean_up(env)
  local out = vim.system({ bin, "ls", "--json", "--all", "-s", "running,queued" }, { env = env, text = true }):wait()
  local ok, tasks = pcall(vim.json.decode, out.stdout or "[]", { luanil = { object = true } })
  for _, t in ipairs(ok and tasks or {}) do
    if t.pid then
      vim.uv.kill(-t.pid, "sigkill")
    end
    vim.system({ bin, "cancel", t.id }, { env = env }):wait()
  end
end

local passed, failed = 0, 0
for _, file in ipairs(vim.fn.glob(here .. "/test_*.lua", false, true)) do
  -- Names only: the bodies run in the children.
  local tests = dofile(file)(setmetatable({}, { __index = function() end }))
  for index, test in ipairs(tests) do
    if not pattern or test[1]:find(pattern) then
      local tmp = vim.fn.tempname()
      local env = {
        XDG_CONFIG_HOME = tmp .. "/config",
        XDG_DATA_HOME = tmp .. "/data",
        XDG_STATE_HOME = tmp .. "/state",
        XDG_CACHE_HOME = tmp .. "/cache",
        ERRAND_HOME = tmp .. "/errand",
      }
      vim.fn.mkdir(tmp .. "/cwd", "p")
      local child = vim.system(
        { nvim, "--headless", "--clean", "-l", here .. "/child.lua", file, tostring(index) },
        { env = env, cwd = tmp .. "/cwd", text = true, timeout = 120000 }
      )
      local res = child:wait()
      clean_up(env)
      vim.fn.delete(tmp, "rf")
      if res.code == 0 then
        passed = passed + 1
        io.stdout:write("ok   ", test[1], "\n")
      else
        failed = failed + 1
        io.stdout:write(
          "FAIL ",
          test[1],
          " (exit ",
          tostring(res.code),
          ")\n",
          res.stdout or "",
          res.stderr or "",
          "\n"
        )
      end
    end
  end
end
io.stdout:write(("%d passed, %d failed\n"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
