"""Running the program without a Pulumi engine: the recording mocks (:mod:`.mock_engine`) that
the tests and the render tool drive the real program with, and the render tool itself
(:mod:`.render`, ``scripts/render``), which writes every Kubernetes object a stack would create.
Nothing here is imported by the program that ``pulumi up`` runs."""
