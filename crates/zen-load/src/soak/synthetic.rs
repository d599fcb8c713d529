//! Synthetic memory curves for the verdict's unit tests: lines, steps, staircases, caches filling
//! to a cap, with reproducible Gaussian noise.

/// The shape under the noise (times in seconds after the warm-up, sizes in MiB).
pub(crate) enum Shape {
    /// `start + per_hour × t`.
    Line { start: f64, per_hour: f64 },
    /// `start`, plus `height` at each time in `at`.
    Steps {
        start: f64,
        at: Vec<f64>,
        height: f64,
    },
    /// `start`, rising by `height` linearly over `secs` from `from`.
    Ramp {
        start: f64,
        from: f64,
        secs: f64,
        height: f64,
    },
    /// `start`, plus a part filling linearly to `cap` over `secs`, then full.
    Fill { start: f64, cap: f64, secs: f64 },
    /// `start + cap × (1 − e^(−t/tau))`.
    Saturating { start: f64, cap: f64, tau_secs: f64 },
}

impl Shape {
    /// The value at `t` seconds.
    pub(crate) fn at(&self, t: f64) -> f64 {
        match self {
            Shape::Line { start, per_hour } => start + per_hour * t / 3600.0,
            Shape::Steps { start, at, height } => {
                start + height * at.iter().filter(|&&s| t >= s).count() as f64
            }
            Shape::Ramp {
                start,
                from,
                secs,
                height,
            } => start + height * ((t - from) / secs).clamp(0.0, 1.0),
            Shape::Fill { start, cap, secs } => start + cap * (t / secs).min(1.0),
            Shape::Saturating {
                start,
                cap,
                tau_secs,
            } => start + cap * (1.0 - (-t / tau_secs).exp()),
        }
    }
}

/// Reproducible standard normal deviates (xorshift and Box–Muller).
pub(crate) struct Noise(u64);

impl Noise {
    pub(crate) fn new(seed: u64) -> Self {
        Noise(seed.max(1))
    }

    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub(crate) fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `secs` of samples every `every` seconds: (hours, MiB) with noise of standard deviation
/// `sigma` MiB.
pub(crate) fn series(secs: f64, every: f64, sigma: f64, shape: &Shape) -> (Vec<f64>, Vec<f64>) {
    let mut noise = Noise::new(0x5eed);
    let n = (secs / every) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 * every;
            (t / 3600.0, shape.at(t) + sigma * noise.normal())
        })
        .unzip()
}
