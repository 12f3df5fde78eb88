-- clear_cache.lua: clears the terminal's cache (清除交易流水), the
-- supervisor's task. terminal.clear_cache() asks the front end for the
-- supervisor's password (checked in posrt, never seen here), exports every
-- record of the journal to a CSV file and empties it; the batch number and
-- the next trace stay, so no number is ever used twice. An unsettled batch
-- or an unresolved record is refused unless the supervisor confirms
-- (the export still keeps every record).

local terminal = require("posrt.terminal")
local ui = require("posrt.ui")

return function(ctx)
  local rep, err = terminal.clear_cache({})
  if not rep and err.code == "not_clearable" then
    if not ui.confirm({ name = "clear_anyway", text = err.message .. ": clear anyway? 仍要清除?" }) then
      return nil, err
    end
    rep, err = terminal.clear_cache({ force = true })
  end
  if not rep then
    return nil, err
  end
  ui.show({ title = "CACHE CLEARED 清除完成", lines = {
    rep.records .. " RECORDS EXPORTED TO " .. rep.export,
    "BATCH " .. rep.batch .. "  NEXT TRACE " .. rep.next_trace,
  } })
  return rep
end
