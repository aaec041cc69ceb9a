"""Local sandboxes of the Selligent and Actito APIs, for the demo, the tests and users' trials."""
