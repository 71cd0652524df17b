"""Output files: rendering real PNG/JPEG/WebP images and MP4 videos, and serving them."""
