//! Acknowledgements.
