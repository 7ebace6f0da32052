//! What the current sound reads as: the symbol decoder p(y|z) applied to the mean latent
//! point of the sounding voices, e.g. "≈ A4 mf Flute, 87 %".

use std::sync::Arc;

use timbrespace_engine::model::ModelFile;
use timbrespace_engine::symbols::{SymbolReader, OCTAVE, PITCH};

/// The symbol reader of one model.
pub struct Readout {
    /// The model it reads for.
    model: Arc<ModelFile>,
    /// p(y|z), if the model has symbols.
    reader: Option<SymbolReader>,
    /// Scratch probabilities.
    probabilities: Vec<f32>,
}

impl Readout {
    /// A reader for `model`.
    pub fn new(model: Arc<ModelFile>) -> Self {
        let reader = SymbolReader::new(&model).ok().flatten();
        let width = reader.as_ref().map_or(0, |r| r.vocabulary().width());
        Self {
            model,
            reader,
            probabilities: vec![0.0; width],
        }
    }

    /// Whether it reads for `model`.
    pub fn is_for(&self, model: &Arc<ModelFile>) -> bool {
        Arc::ptr_eq(&self.model, model)
    }

    /// The reading of the mean of `points`, or why there is none.
    pub fn read(&mut self, points: &[Vec<f32>]) -> String {
        let Some(reader) = &mut self.reader else {
            return "this model has no symbols to read".into();
        };
        let Some(first) = points.first() else {
            return "play a note to read its symbols".into();
        };
        let mut mean = vec![0.0f32; first.len()];
        for p in points {
            mean.iter_mut()
                .zip(p)
                .for_each(|(m, v)| *m += v / points.len() as f32);
        }
        reader.probabilities(&mean, &mut self.probabilities);
        let vocabulary = reader.vocabulary();
        let mut words = Vec::new();
        let mut confidence = 1.0f32;
        let mut pitch = String::new();
        for (g, group) in vocabulary.groups.iter().enumerate() {
            let (class, p) = vocabulary.best(g, &self.probabilities);
            confidence *= p;
            let name = &group.classes[class];
            match group.name.as_str() {
                PITCH => pitch.insert_str(0, name),
                OCTAVE => pitch.push_str(name),
                _ => words.push(name.clone()),
            }
        }
        if !pitch.is_empty() {
            words.insert(0, pitch);
        }
        format!("≈ {}, {:.0} %", words.join(" "), 100.0 * confidence)
    }
}
