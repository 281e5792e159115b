// The files of the repository's themes/ folder, built into the program so that it has
// its themes wherever it is copied; `builtInThemesMatchTheThemesFolder` checks that each
// is its file, character for character (copy a changed file's text in here).

enum BuiltInThemes {
    /// (file name, contents), in the order T cycles them.
    static let files: [(name: String, text: String)] = [
        ("dark.toml", #"""
# The default theme: light text on the terminal's own dark background.
# Colours are xterm-256 indices (0-255), "#rrggbb" (the nearest xterm colour is
# used) or "default" (the terminal's own colour). Every role not listed is plain.
name = "dark"

[roles]
text      = { fg = "default", bg = "default" }
dim       = { fg = 244 }
accent    = { fg = 81, bold = true }
border    = { fg = 240 }
selection = { fg = 231, bg = 24, bold = true }
header    = { fg = 231, bg = 24, bold = true }
status    = { fg = 252, bg = 236 }
key       = { fg = 221, bold = true }
error     = { fg = 203, bold = true }
warning   = { fg = 214, bold = true }
overlay   = { fg = 252, bg = 235 }

[classes]
# Class 1, 2, ... in key order; repeated when a project has more classes.
colors = [203, 114, 221, 75, 177, 215, 80, 183, 151]
"""#),
        ("light.toml", #"""
# Dark text on a light background, for terminals with a light palette or bright rooms.
name = "light"

[roles]
text      = { fg = 235, bg = 255 }
dim       = { fg = 243, bg = 255 }
accent    = { fg = 25, bg = 255, bold = true }
border    = { fg = 249, bg = 255 }
selection = { fg = 16, bg = 153, bold = true }
header    = { fg = 255, bg = 25, bold = true }
status    = { fg = 235, bg = 252 }
key       = { fg = 130, bg = 255, bold = true }
error     = { fg = 160, bg = 255, bold = true }
warning   = { fg = 166, bg = 255, bold = true }
overlay   = { fg = 235, bg = 254 }

[classes]
# Dark enough to read on the white background and on the gray status line.
colors = [160, 28, 94, 25, 91, 130, 30, 127, 58]
"""#),
        ("high-contrast.toml", #"""
# Maximum contrast, with class colours from the Okabe-Ito palette, which stays
# distinguishable under the common forms of colour blindness.
name = "high-contrast"

[roles]
text      = { fg = 231, bg = 16 }
dim       = { fg = 250, bg = 16 }
accent    = { fg = 231, bg = 16, bold = true }
border    = { fg = 231, bg = 16 }
selection = { fg = 16, bg = 231, bold = true }
header    = { fg = 16, bg = 231, bold = true }
status    = { fg = 231, bg = 236 }
key       = { fg = "#F0E442", bg = 16, bold = true }
error     = { fg = "#D55E00", bg = 16, bold = true }
warning   = { fg = "#E69F00", bg = 16, bold = true }
overlay   = { fg = 231, bg = 16 }

[classes]
# Okabe-Ito: orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple.
# Blue is xterm 32, a lighter blue than #0072B2's nearest (25), which is too dark to
# read on the black background and the status line.
# The status line is a dark gray rather than a light one: every class colour is
# written on it, and yellow and sky blue vanish on light gray.
colors = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", 32, "#D55E00", "#CC79A7", 231, 250]
"""#),
    ]
}
