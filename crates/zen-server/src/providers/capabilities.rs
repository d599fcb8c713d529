//! What a model can take besides text, by provider and model name: which take images and how
//! large. Unknown custom models take none (a local model file can say otherwise); OpenRouter
//! serves many vendors' models and decides itself, so zen lets images through to it.

/// The most a provider API accepts in one image (OpenAI's and Gemini's inline limit).
pub(crate) const PROVIDER_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// The largest image `model` at `provider` takes, or `None` when it takes no images.
pub(crate) fn image_limit(provider: &str, model: &str) -> Option<u64> {
    let takes = match provider {
        // GPT-4.1, GPT-4o, GPT-5 and the o-series read images; o1-mini and o3-mini do not.
        "openai" => {
            ["gpt-5", "gpt-4.1", "gpt-4o", "o1", "o3", "o4"]
                .iter()
                .any(|p| model.starts_with(p))
                && !model.starts_with("o1-mini")
                && !model.starts_with("o3-mini")
        }
        "gemini" | "openrouter" | "simulated" => true,
        _ => false,
    };
    takes.then_some(PROVIDER_IMAGE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vision_models_take_images_and_the_rest_do_not() {
        assert!(image_limit("openai", "gpt-5").is_some());
        assert!(image_limit("openai", "o3-mini").is_none());
        assert!(image_limit("gemini", "gemini-2.5-flash").is_some());
        assert!(image_limit("custom", "llama3.2").is_none());
    }
}
