// placeholder until this target's code lands
