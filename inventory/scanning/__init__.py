"""What a scan means: SKUs, lot codes, bin codes and GS1 strings."""
