"""Pure text: normalise, match, detect, classify. Imports nothing of Patrol's other packages."""
