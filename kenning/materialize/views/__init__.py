"""Plain tables derived event by event (TableView specs), one module per event family."""
