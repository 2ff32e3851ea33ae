--- A lualine component: `sections = { lualine_x = { "errand" } }`. Shows
--- what |errand.status()| returns ("2 running · 1 failed", nothing when
--- idle); options: `progress = true` adds the running task's progress.
local component = require("lualine.component"):extend()

function component:init(options)
  component.super.init(self, options)
end

function component:update_status()
  -- lualine puts this into a statusline as it is: "45%" must be "45%%".
  return (require("errand").status({ progress = self.options.progress }):gsub("%%", "%%%%"))
end

return component
