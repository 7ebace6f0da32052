-- Headless Ardour (ardour7-lua): a session with one MIDI track playing Timbrespace (VST3),
-- fed by the "Timbrespace Test Notes" Lua generator, exported to WAV.
-- Environment: TS_SESSION (a new directory), TS_SECONDS (length to export).

local dir = os.getenv ("TS_SESSION")
local seconds = tonumber (os.getenv ("TS_SECONDS") or "7")
local rate = 48000

AudioEngine:set_backend ("None (Dummy)", "", "")
local s = create_session (dir, "timbrespace", rate)
assert (s, "cannot create the session")

local info = ARDOUR.LuaAPI.new_plugin_info ("Timbrespace", ARDOUR.PluginType.VST3)
assert (not info:isnil (), "Timbrespace (VST3) is not in Ardour's plugin index")

local tracks = s:new_midi_track (
	ARDOUR.ChanCount (ARDOUR.DataType ("midi"), 1),
	ARDOUR.ChanCount (ARDOUR.DataType ("audio"), 2),
	true, info, nil, nil, 1, "Timbrespace",
	ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true, false)
assert (tracks:size () == 1, "cannot create the MIDI track")
local track = tracks:front ()

local notes = ARDOUR.LuaAPI.new_luaproc (s, "Timbrespace Test Notes")
assert (not notes:isnil (), "the note generator script is not installed")
track:add_processor_by_index (notes, 0, nil, true)

-- Connect the instrument's outputs to the master bus ourselves (auto-connection is
-- asynchronous and may not have happened before the export).
local out = track:output ()
out:disconnect_all (nil)
out:audio (0):connect ("Master/audio_in 1")
out:audio (1):connect ("Master/audio_in 2")

local export = s:simple_export ()
export:set_name ("timbrespace")
export:set_folder (dir)
export:set_range (0, math.floor (seconds * rate))
assert (export:set_preset ("75969a1c-3133-4694-864b-a1fa50e43348"), "no WAV export preset")
assert (export:run_export (), "the export failed")
print ("exported to " .. dir)
s:save_state ("", false, false, false, false, false)
close_session ()
