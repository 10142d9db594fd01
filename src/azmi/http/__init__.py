"""The wire: one module per Azure surface, errors.py for their error formats, app.py to compose."""
