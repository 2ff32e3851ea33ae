--- A lualine component: `sections = { lualine_x = { "errand" } }`. Shows
--- what |errand.status()| returns ("2 running · 1 failed", nothing when
--- idle); options: `progress = true` adds the running task's progress.
local component = require("lualine.component"):extend()

function component:init(options)
  component.super.init(self, options)
end

function component:update_status()
  return require("errand").status({ progress = self.options.progress })
end

return component
