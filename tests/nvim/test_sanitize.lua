-- Control characters in what tasks and projects name (names, commands,
-- folders, output in popups) are shown as `cat -v` shows them, as the CLI
-- does; a raw newline would make nvim_buf_set_lines refuse a whole view.
return function(H)
  local errand = require("errand")
  local format = require("errand.format")

  --- Every C0 control but NUL (argv cannot carry it), DEL and every C1.
  local function every_control()
    local chars = {}
    for b = 1, 31 do
      table.insert(chars, string.char(b))
    end
    table.insert(chars, "\127")
    for b = 0x80, 0x9f do
      table.insert(chars, "\194" .. string.char(b))
    end
    return table.concat(chars)
  end

  local function assert_no_raw_control(text, what)
    H.truthy(not text:find("[%z\1-\31\127]") and not text:find("\194[\128-\159]"), what .. ": " .. vim.inspect(text))
  end

  return {
    {
      "sanitize: the CLI's rule, byte for byte; printable text untouched",
      function()
        H.eq(format.sanitize(nil), "", "nil")
        H.eq(format.sanitize("\0"), "^@", "NUL")
        local plain = "make → ok ✓ é\194\160x"
        H.eq(format.sanitize(plain), plain, "UTF-8, U+00A0 included, is not a control")
        H.eq(format.sanitize("a\nb\t\27[31m\127\194\155x ✓"), "a^Jb^I^[[31m^?M-^[x ✓", "the rule")
        local name = "<" .. every_control() .. "é>"
        local out, code = H.cli({ "run", "--name", name, "--", "true" })
        H.eq(code, 0, "run")
        local shown, show_code = H.cli({ "show", vim.trim(out) })
        H.eq(show_code, 0, "show")
        local cli_name = shown:match("\n%s*name  ([^\n]*)\n")
        H.eq(format.sanitize(name), cli_name, "errand show writes the same")
      end,
    },

    {
      "fit: cut by characters with an ellipsis, padded to the width in cells",
      function()
        H.eq(format.fit(("é"):rep(50), 40), ("é"):rep(39) .. "…", "never inside a character")
        H.eq(format.fit("a\nb", 6), "a^Jb  ", "sanitized, then padded")
        local wide = format.fit(("日"):rep(30), 40)
        H.eq(vim.fn.strdisplaywidth(wide), 40, "wide characters: " .. wide)
        H.truthy(vim.startswith(wide, ("日"):rep(19) .. "…"), wide)
      end,
    },

    {
      "the tasks window: names with newlines and escapes break no row; details escape name, command and folder",
      function()
        local folder = vim.fn.getcwd() .. "/d\27[1m"
        vim.fn.mkdir(folder, "p")
        local evil, plain, long
        errand.run("echo '\27]0;title\7'", { name = "a\nb\27[2J", cwd = folder }, function(t)
          evil = t
        end)
        errand.run("echo plain", { name = "plain" }, function(t)
          plain = t
        end)
        errand.run("true", { name = ("é"):rep(50) }, function(t)
          long = t
        end)
        H.popup(vim.log.levels.INFO, "✓ a%^Jb%^%[%[2J")
        H.popup(vim.log.levels.INFO, "✓ plain")
        H.popup(vim.log.levels.INFO, "✓ éé")
        vim.cmd("Errand list")
        local lines, win
        H.wait("every row", function()
          lines, win = H.float_lines()
          local text = lines and table.concat(lines, "\n") or ""
          return evil
            and plain
            and long
            and text:find(evil.id, 1, true)
            and text:find(plain.id, 1, true)
            and text:find(long.id, 1, true)
        end)
        for _, l in ipairs(lines) do
          assert_no_raw_control(l, "a row")
        end
        local text = table.concat(lines, "\n")
        H.truthy(text:find("a^Jb^[[2J", 1, true), vim.inspect(lines))
        H.truthy(text:find(("é"):rep(10), 1, true) and text:find("é… ", 1, true), "cut by characters: " .. text)
        -- Cut to the window's width: no row wraps.
        for _, l in ipairs(lines) do
          H.truthy(vim.fn.strdisplaywidth(l) <= vim.api.nvim_win_get_width(win), "wider than the window: " .. l)
        end
        for i, l in ipairs(lines) do
          if l:find(evil.id, 1, true) then
            vim.api.nvim_win_set_cursor(win, { i, 0 })
          end
        end
        vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<CR>", true, false, true), "x", false)
        local details
        H.wait("details", function()
          details = table.concat(H.float_lines() or {}, "\n")
          return details:find("name  a^Jb^[[2J", 1, true)
        end)
        H.truthy(details:find("command  echo '^[]0;title^G'", 1, true), details)
        H.truthy(details:find("cwd  " .. vim.fn.getcwd() .. "/d^[[1m", 1, true), details)
        H.eq(H.task(evil.id).name, "a\nb\27[2J", "the store keeps the exact name")
      end,
    },

    {
      "popups and pickers: a failure's name and output, the start-up summary, the task picker",
      function()
        -- Ended before Neovim talked to errand: reported in the summary.
        local out = H.cli({ "run", "--name", "s\nt\27[2J", "--", "false" })
        H.cli({ "wait", vim.trim(out) })
        errand.status() -- starts the server
        local summary = H.popup(vim.log.levels.WARN, "finished while Neovim was closed")
        H.truthy(summary.msg:find("s^Jt^[[2J", 1, true), summary.msg)
        for _, l in ipairs(vim.split(summary.msg, "\n")) do
          assert_no_raw_control(l, "a summary line")
        end

        errand.run("printf 'bad\\033[31m\\r\\n\\033]0;t\\007\\n'; exit 4", { name = "x\ty\27[2J" })
        local failed = H.popup(vim.log.levels.ERROR, "%(exit 4%)")
        local popup_lines = vim.split(failed.msg, "\n")
        H.truthy(popup_lines[1]:find("x^Iy^[[2J", 1, true), failed.msg)
        H.truthy(failed.msg:find("bad^[[31m^M", 1, true), failed.msg)
        H.truthy(failed.msg:find("^[]0;t^G", 1, true), failed.msg)
        for _, l in ipairs(popup_lines) do
          assert_no_raw_control(l, "a popup line")
        end

        local items
        vim.ui.select = function(list, opts, cb)
          items = vim.tbl_map(opts.format_item, list)
          cb(nil)
        end
        vim.cmd("Errand restart")
        H.wait("the picker", function()
          return items ~= nil
        end)
        H.truthy(#items >= 2, vim.inspect(items))
        for _, item in ipairs(items) do
          assert_no_raw_control(item, "a picker item")
        end
        H.truthy(table.concat(items, "\n"):find("x^Iy^[[2J", 1, true), vim.inspect(items))
      end,
    },
  }
end
