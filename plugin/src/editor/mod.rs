//! The egui editor: model loading and status, the latent map (with the agent's path), the
//! parameters, the agent's feedback buttons and state, the symbol read-out and a live
//! spectrum (in Motif mode, the motif being played).

mod map;
mod motif;
mod readout;
mod spectrum;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use egui::{Color32, RichText, Ui};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::{Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp,
    RepaintNotifier,
};
use timbrespace_engine::descriptors::Descriptor;

use crate::agent::AgentView;
use crate::params::{TimbrespaceParams, AXES};
use crate::session::Session;
use crate::shared::Shared;

use map::{MapPoints, Marks};
use motif::MotifView;
use readout::Readout;
use spectrum::Spectrum;

/// The editor window's size in logical pixels.
const SIZE: (f64, f64) = (1060.0, 700.0);
/// Width of a parameter slider.
const SLIDER: f32 = 130.0;
/// Repaint interval while the editor is open (voices and spectrum move).
const REFRESH: Duration = Duration::from_millis(40);

/// Sends load requests to the session's loader from the GUI thread.
pub type LoadRequester = Arc<dyn Fn(PathBuf) -> bool + Send + Sync>;

/// The editor's state.
pub struct EditorApp {
    /// Parameters.
    params: Arc<TimbrespaceParams>,
    /// Shared with the audio thread and the loader.
    shared: Arc<Shared>,
    /// Asks the loader for a model.
    load: LoadRequester,
    /// Asks the loader for a motif bank.
    load_motifs: LoadRequester,
    /// The path typed into the motif bank field.
    motif_field: String,
    /// Set by `build()`: how the editor changes parameters.
    gui: Option<GuiContext>,
    /// The path typed into the model field.
    path_field: String,
    /// The map's projected training points, rebuilt when the model, basis or label changes.
    map: Option<MapPoints>,
    /// The symbol read-out's reader.
    readout: Option<Readout>,
    /// The spectrum's FFT.
    spectrum: Spectrum,
    /// Motif mode's preview (shown instead of the spectrum in that mode).
    motif: MotifView,
}

/// The editor for `params` and `session`.
pub fn create(params: Arc<TimbrespaceParams>, session: &Session) -> Option<EguiEditor<EditorApp>> {
    let shared = session.shared().clone();
    let load = session.load_requester();
    let load_motifs = session.motif_requester();
    let path_field = params.model_path.read().clone();
    let motif_field = params.motif_path.read().clone();
    let motifs = shared.motifs.read().clone();
    create_egui_editor(
        EguiEditorState::from_size(LogicalSize::new(SIZE.0, SIZE.1), 1.0),
        RepaintNotifier::new(),
        EguiNiceSettings::new().with_tile("Timbrespace"),
        EditorApp {
            params,
            shared,
            load,
            load_motifs,
            motif_field,
            gui: None,
            path_field,
            map: None,
            readout: None,
            spectrum: Spectrum::default(),
            motif: MotifView::new(motifs),
        },
    )
}

impl NiceEguiApp for EditorApp {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(gui);
        self.shared.editor_open.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn editor_closed(&mut self) {
        self.shared.editor_open.store(false, Ordering::Relaxed);
        self.gui = None;
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut Frame) {
        let Some(gui) = self.gui.clone() else {
            return;
        };
        let setter = gui.param_setter();
        ui.ctx().request_repaint_after(REFRESH);
        self.header(ui);
        ui.separator();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| self.map_column(ui, &setter));
            ui.separator();
            ui.vertical(|ui| self.parameters(ui, &setter));
            ui.separator();
            ui.vertical(|ui| self.axes(ui, &setter));
        });
    }
}

impl EditorApp {
    /// Model name, latent size, the load field and any message.
    fn header(&mut self, ui: &mut Ui) {
        let status = self.shared.status.lock().clone();
        let (latent, pitch) = {
            let model = self.shared.model.read();
            let m = &model.manifest;
            (
                m.architecture.latent,
                m.pitch_direction.as_ref().map(|p| p.explained),
            )
        };
        ui.horizontal(|ui| {
            ui.heading("Timbrespace");
            ui.label(format!("model: {}", status.model_name));
            ui.label(format!("latent size {latent}"));
            ui.label(match pitch {
                Some(explained) => format!(
                    "free-mode keys transpose along its pitch direction ({:.0} % of the encoder's transpositions)",
                    100.0 * explained.max(0.0)
                ),
                None => "no pitch direction: free-mode keys only gate".into(),
            });
        });
        ui.horizontal(|ui| {
            ui.label("Model file");
            ui.add(egui::TextEdit::singleline(&mut self.path_field).desired_width(520.0));
            let ready = !status.loading && !self.path_field.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new("Load")).clicked() {
                request(&self.load, &self.path_field, &self.shared);
            }
            if status.loading {
                ui.spinner();
            }
        });
        ui.horizontal(|ui| {
            ui.label("Motif bank");
            ui.add(egui::TextEdit::singleline(&mut self.motif_field).desired_width(380.0));
            let ready = !self.motif_field.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new("Load")).clicked() {
                request(&self.load_motifs, &self.motif_field, &self.shared);
            }
            ui.label(format!("playing: {}", status.motifs_name));
        });
        if let Some(message) = &status.message {
            ui.label(RichText::new(message).color(Color32::from_rgb(255, 120, 100)));
        }
    }

    /// The map, the read-out and the spectrum.
    fn map_column(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let model = self.shared.model.read().clone();
        let basis = self.params.controls().basis;
        let kinds: Vec<String> = model
            .manifest
            .labels
            .iter()
            .map(|l| l.name.clone())
            .collect();
        let mut colour_by = {
            let wanted = self.params.editor.read().colour_by.clone();
            kinds.iter().position(|k| *k == wanted).unwrap_or(0)
        };
        ui.horizontal(|ui| {
            ui.label("Colour by");
            egui::ComboBox::from_id_salt("colour-by")
                .selected_text(kinds.get(colour_by).cloned().unwrap_or_else(|| "—".into()))
                .show_ui(ui, |ui| {
                    for (i, k) in kinds.iter().enumerate() {
                        ui.selectable_value(&mut colour_by, i, k);
                    }
                });
        });
        if let Some(kind) = kinds.get(colour_by) {
            if self.params.editor.read().colour_by != *kind {
                self.params.editor.write().colour_by = kind.clone();
            }
        }
        if !self
            .map
            .as_ref()
            .is_some_and(|m| m.is_for(&model, basis, colour_by))
        {
            self.map = MapPoints::new(model.clone(), basis, colour_by);
        }
        let latent = model.manifest.architecture.latent;
        let voices = self.shared.voices(latent);
        // While voices follow a target, the map shows that descriptor: where it can go.
        let following = self.params.controls().target;
        let background = self.background(ui, following);
        let agent = self.shared.agent.link().view();
        let marks = Marks {
            voices: &voices,
            agent_path: if self.params.agent_on.value() {
                &agent.path
            } else {
                &[]
            },
        };
        if let Some(map) = &self.map {
            map::show(ui, 380.0, map, background, &marks, &self.params, setter);
        }
        if !self.readout.as_ref().is_some_and(|r| r.is_for(&model)) {
            self.readout = Some(Readout::new(model.clone()));
        }
        if let Some(readout) = &mut self.readout {
            ui.label(RichText::new(readout.read(&voices)).size(16.0));
        }
        if let Some(descriptor) = following {
            ui.label(target_text(
                descriptor,
                self.shared.target_value.get(),
                self.shared.target_reached.get(),
            ));
        }
        if let Some(settings) = self.params.controls().motif {
            let bank = self.shared.motifs.read().clone();
            self.motif.show(ui, &bank, &settings, 380.0, 120.0);
        } else {
            let rate = self.shared.host_rate.load(Ordering::Relaxed).max(1) as f32;
            self.spectrum
                .show(ui, &self.shared.scope(), rate, 380.0, 120.0);
        }
    }

    /// The descriptor drawn under the map: the followed one while a target is on, else the
    /// one chosen beside "Colour by" (saved with the project).
    fn background(&mut self, ui: &mut Ui, following: Option<Descriptor>) -> Option<Descriptor> {
        if let Some(descriptor) = following {
            ui.label(format!(
                "Descriptor map: {} (the target's)",
                descriptor.name()
            ));
            return Some(descriptor);
        }
        let mut chosen = Descriptor::from_name(&self.params.editor.read().background);
        ui.horizontal(|ui| {
            ui.label("Descriptor map");
            egui::ComboBox::from_id_salt("background")
                .selected_text(chosen.map_or("none", Descriptor::name))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut chosen, None, "none");
                    for d in Descriptor::ALL {
                        ui.selectable_value(&mut chosen, Some(d), d.name());
                    }
                });
        });
        let name = chosen.map_or("", Descriptor::name);
        if self.params.editor.read().background != name {
            self.params.editor.write().background = name.to_string();
        }
        chosen
    }

    /// Every parameter, axes beyond the model's latent size marked inert.
    fn parameters(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let p = &self.params;
        egui::Grid::new("params").num_columns(2).show(ui, |ui| {
            for param in [
                &p.mode as &dyn ParamRow,
                &p.projection,
                &p.phase,
                &p.instrument,
                &p.rotation,
                &p.attack,
                &p.decay,
                &p.sustain,
                &p.release,
                &p.bend_range,
                &p.transpose,
                &p.root_key,
                &p.motif_position,
                &p.motif_density,
                &p.motif_pitch,
                &p.motif_shift,
                &p.target,
                &p.target_value,
                &p.gain,
                &p.agent_on,
                &p.agent_dims,
                &p.agent_rate,
                &p.agent_exploit,
            ] {
                ui.label(param.label());
                param.slider(ui, setter);
                ui.end_row();
            }
        });
        self.agent(ui);
    }

    /// The agent's feedback buttons (and keys: + and −), reset, the feedback controllers and
    /// its state.
    fn agent(&mut self, ui: &mut Ui) {
        let link = self.shared.agent.link().clone();
        let (plus, minus) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::Plus) || i.key_pressed(egui::Key::Equals),
                i.key_pressed(egui::Key::Minus),
            )
        });
        ui.horizontal(|ui| {
            if ui.button("Reward +").clicked() || plus {
                link.give_feedback(1.0);
            }
            if ui.button("Reward −").clicked() || minus {
                link.give_feedback(-1.0);
            }
            if ui.button("Reset agent").clicked() {
                link.request_reset();
            }
        });
        ui.horizontal(|ui| {
            ui.label("Feedback CCs +");
            cc_field(ui, &self.params.reward_plus_cc);
            ui.label("−");
            cc_field(ui, &self.params.reward_minus_cc);
        });
        let view = link.view();
        let text = if !self.params.agent_on.value() {
            "Agent off (+/− keys and buttons teach it once on)".to_string()
        } else {
            agent_text(&view)
        };
        ui.label(RichText::new(text).monospace());
    }

    /// The latent axes; those beyond what the model offers in this projection are inert.
    fn axes(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let p = &self.params;
        // The map (drawn first) holds the axes the instrument moves along, with the same
        // fallback to raw axes for a model without the chosen projection.
        let usable = self.map.as_ref().map_or_else(
            || self.shared.model.read().manifest.architecture.latent,
            |m| m.axes.dims(),
        );
        egui::Grid::new("axes").num_columns(2).show(ui, |ui| {
            for (i, axis) in p.axes.iter().enumerate().take(AXES) {
                if i < usable {
                    ui.label(axis.value.name());
                    axis.value.slider(ui, setter);
                } else {
                    ui.label(RichText::new(format!("{} (inert)", axis.value.name())).weak());
                    ui.add_enabled_ui(false, |ui| axis.value.slider(ui, setter));
                }
                ui.end_row();
            }
        });
    }
}

/// "Target centroid 1520 Hz · voices at 1490 Hz".
fn target_text(descriptor: Descriptor, target: f32, reached: f32) -> String {
    let value = |v: f32| {
        if !v.is_finite() {
            "—".to_string()
        } else if descriptor == Descriptor::Flatness {
            format!("{v:.3}")
        } else {
            format!("{v:.0} {}", descriptor.unit())
        }
    };
    format!(
        "Target {} {} · voices at {}",
        descriptor.name(),
        value(target),
        value(reached)
    )
}

/// "axis 2 ↑ · value +0.42 · novelty 0.18 · 312 moves · 14 feedback · 2 axes".
fn agent_text(view: &AgentView) -> String {
    let status = view.status;
    match status.last_action {
        None => format!("Agent waiting · {} axes", view.dims),
        Some(action) => format!(
            "{} · value {:+.2} · novelty {:.2}\n{} moves · {} feedback · {} axes",
            action.describe(),
            status.value,
            status.novelty,
            status.actions,
            status.feedback,
            view.dims
        ),
    }
}

/// An editable MIDI CC number (0–127) kept in `cc`.
fn cc_field(ui: &mut Ui, cc: &AtomicU8) {
    let mut value = cc.load(Ordering::Relaxed);
    if ui
        .add(egui::DragValue::new(&mut value).range(0..=127))
        .changed()
    {
        cc.store(value, Ordering::Relaxed);
    }
}

/// Sends the path typed in `field` to `load`, saying so when the loader is busy.
fn request(load: &LoadRequester, field: &str, shared: &Shared) {
    if !load(PathBuf::from(field.trim())) {
        shared.status.lock().message = Some("the loader is busy; try again in a moment".into());
    }
}

/// A parameter the generic rows can show.
trait ParamRow {
    /// Its name.
    fn label(&self) -> &str;
    /// Its slider.
    fn slider(&self, ui: &mut Ui, setter: &ParamSetter);
}

impl<P: Param> ParamRow for P {
    fn label(&self) -> &str {
        self.name()
    }

    fn slider(&self, ui: &mut Ui, setter: &ParamSetter) {
        ui.add(ParamSlider::for_param(self, setter).with_width(SLIDER));
    }
}
