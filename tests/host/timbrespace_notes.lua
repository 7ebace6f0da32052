ardour {
	["type"]    = "dsp",
	name        = "Timbrespace Test Notes",
	category    = "Utility",
	license     = "MIT",
	author      = "Timbrespace",
	description = [[Plays the host test's notes: A4 alone, then the chord C4 E4 G4.]]
}

-- MIDI output only: this sits before the instrument on a MIDI track.
function dsp_ioconfig ()
	return { { midi_out = 1, audio_in = 0, audio_out = 0 } }
end

-- { seconds, status, key, velocity }
local score = {
	{ 0.50, 0x90, 69, 100 },
	{ 2.50, 0x80, 69, 0 },
	{ 3.50, 0x90, 60, 100 },
	{ 3.50, 0x90, 64, 100 },
	{ 3.50, 0x90, 67, 100 },
	{ 5.50, 0x80, 60, 0 },
	{ 5.50, 0x80, 64, 0 },
	{ 5.50, 0x80, 67, 0 },
}

local rate = 48000
local next_event = 1

function dsp_init (r)
	rate = r
end

-- Events are placed on the session timeline (sample 0 = the start of the export), so the
-- notes land where the test expects them however long the session took to set up.
function dsp_run (_, _, n_samples)
	if not Session:transport_rolling () then return end
	local start = Session:transport_sample ()
	local m = 1
	while next_event <= #score do
		local e = score[next_event]
		local at = math.floor (e[1] * rate)
		if at >= start + n_samples then break end
		midiout[m] = { time = math.max (1, at - start + 1), data = { e[2], e[3], e[4] } }
		m = m + 1
		next_event = next_event + 1
	end
end
