-- One test in a fresh Neovim: nvim --headless --clean -l child.lua FILE INDEX
-- The runner (run.lua) gives it its own ERRAND_HOME, XDG folders and cwd.
local file, index = _G.arg[1], tonumber(_G.arg[2])
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h") .. "/harness.lua")
H.load_plugin()
local test = dofile(file)(H)[index]
local ok, err = xpcall(test[2], debug.traceback)
if not ok then
  io.stdout:write(tostring(err), "\n")
end
io.stdout:flush()
os.exit(ok and 0 or 1)
