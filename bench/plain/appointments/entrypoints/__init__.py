"""Plain handlers: the seed's design, each a module-level client and a loop."""
