//! Proof that the audio-path calls never allocate: a counting global allocator watches every
//! allocation made by this test's thread while voices and the resampler run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

mod common;

use timbrespace_engine::model::DecoderKernel;
use timbrespace_engine::phase::refined::RefineSettings;
use timbrespace_engine::phase::rtpghi::Lookahead;
use timbrespace_engine::resample::StreamResampler;
use timbrespace_engine::stft::StftConfig;
use timbrespace_engine::voice::{FrameSource, PhaseMode, Voice};
use timbrespace_engine::window::WindowKind;

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// A source whose spectrum changes every hop (harmonics gliding), so every code path of the
/// reconstructors runs, including islands and random-phase bins.
struct GlidingHarmonics {
    hop: usize,
}

impl FrameSource for GlidingHarmonics {
    fn next_frame(&mut self, frame: &mut [f32]) -> bool {
        self.hop += 1;
        let f0 = 10.0 + (self.hop % 40) as f32 * 0.7;
        for (m, v) in frame.iter_mut().enumerate() {
            let harmonic = m as f32 / f0;
            let near = (harmonic - harmonic.round()).abs() * f0;
            *v = if self.hop % 50 < 10 {
                0.0
            } else {
                (-near * near).exp() * 10.0 / (1.0 + harmonic)
            };
        }
        !self.hop.is_multiple_of(3)
    }
}

#[test]
fn voices_and_resampler_never_allocate_while_rendering() {
    let cfg = StftConfig::new(1024, 256, WindowKind::Hann).expect("valid config");
    let modes = [
        PhaseMode::Rtpghi(Lookahead::Zero),
        PhaseMode::Rtpghi(Lookahead::One),
        PhaseMode::Refined(RefineSettings::default()),
    ];
    for mode in modes {
        let mut voice = Voice::new(&cfg, mode);
        let mut resampler = StreamResampler::new(22_050, 48_000, 256).expect("rates");
        let mut source = GlidingHarmonics { hop: 0 };
        let mut out = vec![0.0; 8192];
        // Warm-up, then watch: blocks of every awkward size, a reset, and more blocks.
        voice.render(&mut out, &mut source);
        let count = allocations_during(|| {
            for block in [1, 64, 333, 4096, 8192, 17] {
                for _ in 0..20 {
                    resampler.render(&mut out[..block], &mut |chunk: &mut [f32]| {
                        voice.render(chunk, &mut source)
                    });
                }
            }
            voice.reset();
            voice.render(&mut out, &mut source);
        });
        assert_eq!(count, 0, "{mode:?} allocated {count} times");
    }
}

#[test]
fn the_counter_sees_allocations() {
    let count = allocations_during(|| {
        std::hint::black_box(vec![1u8; 100]);
    });
    assert!(count >= 1);
}

#[test]
fn decoder_kernel_never_allocates() {
    for conv in [false, true] {
        let model = common::tiny_model::tiny_model(conv, 4);
        let mut kernel = DecoderKernel::new(&model, 4).expect("kernel");
        let z = vec![0.3; 4 * kernel.latent()];
        let mut out = vec![0.0; 4 * kernel.bins()];
        let count = allocations_during(|| {
            kernel.decode_batch(&z, &mut out);
            kernel.decode_magnitudes(&z[..kernel.latent()], &mut out[..kernel.bins()]);
        });
        assert_eq!(count, 0, "conv={conv}");
        assert!(out.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn note_player_and_symbol_kernels_never_allocate() {
    use timbrespace_engine::model::manifest::PitchDirection;
    use timbrespace_engine::player::{NoteEvent, NotePlayer, PlayMode};
    use timbrespace_engine::symbols::SymbolReader;
    let mut model = common::tiny_model::tiny_symbol_model(5);
    model.manifest.pitch_direction = Some(PitchDirection {
        per_semitone: vec![0.1, -0.05, 0.0, 0.02],
        explained: 0.9,
    });
    let mode = PhaseMode::Rtpghi(Lookahead::One);
    let mut player = NotePlayer::new(&model, mode, 4, 100).expect("player");
    let mut reader = SymbolReader::new(&model).expect("valid").expect("symbols");
    let mut out = vec![0.0; 333];
    let mut probabilities = vec![0.0; reader.vocabulary().width()];
    let count = allocations_during(|| {
        for (i, key) in [48u8, 60, 64, 67, 72, 84].iter().enumerate() {
            player.handle(NoteEvent::NoteOn {
                channel: 0,
                key: *key,
                velocity: 30 + 15 * i as u8,
            });
            player.render(&mut out[..77 + i]);
        }
        player.handle(NoteEvent::Sustain {
            channel: 0,
            down: true,
        });
        player.handle(NoteEvent::PitchBend {
            channel: 0,
            semitones: 0.7,
        });
        player.set_instrument(0.5);
        player.handle(NoteEvent::NoteOff {
            channel: 0,
            key: 60,
        });
        player.render(&mut out);
        player.handle(NoteEvent::Sustain {
            channel: 0,
            down: false,
        });
        player.handle(NoteEvent::AllNotesOff);
        for _ in 0..20 {
            player.render(&mut out);
        }
        // Transposed notes, and free mode moving along the pitch direction.
        player.set_transpose(1.5);
        player.set_root_key(55.0);
        for mode in [PlayMode::Notes, PlayMode::Free] {
            player.set_mode(mode);
            player.handle(NoteEvent::NoteOn {
                channel: 0,
                key: 62,
                velocity: 90,
            });
            player.render(&mut out);
        }
        player.reset();
        reader.probabilities(&[0.1, -0.2, 0.3, 0.0], &mut probabilities);
    });
    assert_eq!(count, 0);
    assert!(out.iter().all(|v| v.is_finite()));
}

#[test]
fn descriptors_never_allocate() {
    use timbrespace_engine::descriptors::{describe, DescriptorSettings, Moments};
    let config = StftConfig::new(1024, 256, WindowKind::Hann).expect("valid");
    let settings = DescriptorSettings::new(&config, 22_050.0);
    let frame: Vec<f32> = (0..config.bins()).map(|k| 1.0 / (1.0 + k as f32)).collect();
    let mut total = 0.0;
    let count = allocations_during(|| {
        let mut moments = Moments::default();
        for _ in 0..10 {
            total += describe(&frame, &settings).centroid;
            moments.add(&frame, &settings);
        }
        total += moments.bandwidth();
    });
    assert_eq!(count, 0);
    assert!(total.is_finite() && total > 0.0);
}

#[test]
fn path_follower_never_allocates() {
    use timbrespace_engine::axes::{AxisBasis, LatentAxes};
    use timbrespace_engine::descriptor_path::PathFollower;
    use timbrespace_engine::descriptors::Descriptor;
    let model = common::tiny_model::tiny_model(false, 4);
    let axes = LatentAxes::new(&model, AxisBasis::Raw).expect("axes");
    let mut follower =
        PathFollower::new(&model, &axes, 3, Descriptor::Centroid, 0.5).expect("follower");
    let mut z = vec![0.1; 4];
    let mut total = 0.0;
    let count = allocations_during(|| {
        for target in [500.0, 800.0, f32::NAN] {
            total += follower.step(&mut z, target).achieved;
        }
        total += follower.measure(&z);
    });
    assert_eq!(count, 0);
    assert!(total.is_finite());
}
