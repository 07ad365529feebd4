//! The Japanese font of the PDF: found on the system or given by the caller, its glyphs
//! looked up and measured, and embedded as a subset (a CIDFontType2 for TrueType outlines such
//! as the IPA fonts, a CIDFontType0 with an OpenType program for CFF outlines such as Noto
//! Sans CJK). Font files are never shipped with mamori: Debian packages them.

use super::PdfError;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Chunk, Filter, Finish, Name, Rect, Ref, Str};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId, Tag};

/// Where the PDF's Japanese font comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FontSource {
    /// The first font of [`SYSTEM_FONTS`] that exists on this machine.
    System,
    /// A TrueType or OpenType font file (`.ttf`, `.otf`, `.ttc`).
    Path(PathBuf),
    /// The bytes of a font file, already read.
    Data(Vec<u8>),
}

/// A well-known place of a Japanese font and the Debian package that puts it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemFont {
    pub family: &'static str,
    pub path: &'static str,
    pub debian_package: &'static str,
}

/// The package named in the error when no font is found: the smallest of the three.
pub const FONT_PACKAGE: &str = "fonts-ipaexfont-gothic";

/// Searched in this order by [`FontSource::System`].
pub const SYSTEM_FONTS: &[SystemFont] = &[
    SystemFont {
        family: "IPAexGothic",
        path: "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        debian_package: "fonts-ipaexfont-gothic",
    },
    SystemFont {
        family: "IPAexGothic",
        path: "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
        debian_package: "fonts-ipaexfont-gothic",
    },
    SystemFont {
        family: "IPAGothic",
        path: "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
        debian_package: "fonts-ipafont-gothic",
    },
    SystemFont {
        family: "IPAGothic",
        path: "/usr/share/fonts/truetype/ipafont-gothic/ipag.ttf",
        debian_package: "fonts-ipafont-gothic",
    },
    SystemFont {
        family: "Noto Sans CJK JP",
        path: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        debian_package: "fonts-noto-cjk",
    },
    SystemFont {
        family: "Noto Sans CJK JP",
        path: "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        debian_package: "fonts-noto-cjk",
    },
    SystemFont {
        family: "Noto Sans CJK JP",
        path: "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        debian_package: "fonts-noto-cjk",
    },
];

/// The first of [`SYSTEM_FONTS`] present on this machine.
pub fn find_system_font() -> Option<&'static SystemFont> {
    SYSTEM_FONTS.iter().find(|f| Path::new(f.path).is_file())
}

impl FontSource {
    /// Reads the font file. Returns its bytes and a name for messages.
    pub(crate) fn load(&self) -> Result<(Vec<u8>, String), PdfError> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map(|b| (b, path.display().to_string()))
                .map_err(|e| PdfError::FontUnreadable { path: path.display().to_string(), detail: e.to_string() })
        };
        match self {
            Self::System => match find_system_font() {
                Some(f) => read(Path::new(f.path)),
                None => Err(PdfError::FontMissing {
                    searched: SYSTEM_FONTS.iter().map(|f| f.path.to_owned()).collect(),
                    package: FONT_PACKAGE,
                }),
            },
            Self::Path(p) if !p.exists() => {
                Err(PdfError::FontMissing { searched: vec![p.display().to_string()], package: FONT_PACKAGE })
            }
            Self::Path(p) => read(p),
            Self::Data(bytes) => Ok((bytes.clone(), "(font data given by the caller)".to_owned())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outlines {
    TrueType,
    Cff,
}

/// A font in use: glyphs are numbered in the order the text first uses them, and those
/// numbers (the subset's glyph ids) are what the content streams show.
pub(crate) struct PdfFont<'a> {
    data: &'a [u8],
    index: u32,
    face: Face<'a>,
    outlines: Outlines,
    remapper: GlyphRemapper,
    /// char → (subset glyph id, advance in em).
    glyphs: HashMap<char, (u16, f32)>,
    /// Advance of each subset glyph id, in 1/1000 em.
    widths: Vec<f32>,
    /// What each subset glyph id stands for (for copy-paste and search).
    unicode: Vec<(u16, char)>,
}

/// A glyph every Japanese font has; a font without it is not a Japanese font.
const PROBE: char = '確';

impl<'a> PdfFont<'a> {
    pub(crate) fn new(data: &'a [u8], name: &str) -> Result<Self, PdfError> {
        let unsupported = |detail: &str| PdfError::FontUnsupported { path: name.to_owned(), detail: detail.to_owned() };
        let index = japanese_face_index(data);
        let face = Face::parse(data, index).map_err(|e| unsupported(&format!("not a TrueType/OpenType font ({e})")))?;
        let raw = face.raw_face();
        let outlines = if raw.table(Tag::from_bytes(b"glyf")).is_some() {
            Outlines::TrueType
        } else if raw.table(Tag::from_bytes(b"CFF ")).is_some() {
            Outlines::Cff
        } else {
            return Err(unsupported("only TrueType (glyf) and CFF outlines can be embedded"));
        };
        if face.glyph_index(PROBE).is_none() {
            return Err(unsupported("the font has no Japanese glyphs"));
        }
        if face.permissions() == Some(ttf_parser::Permissions::Restricted) || !face.is_subsetting_allowed() {
            return Err(unsupported("the font's licence does not allow embedding a subset in a document"));
        }
        let mut font = Self {
            data,
            index,
            face,
            outlines,
            remapper: GlyphRemapper::new(),
            glyphs: HashMap::new(),
            widths: Vec::new(),
            unicode: Vec::new(),
        };
        let notdef = font.advance_em(GlyphId(0));
        font.widths.push(notdef * 1000.0);
        Ok(font)
    }

    fn advance_em(&self, gid: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(gid).unwrap_or(0)) / f32::from(self.face.units_per_em().max(1))
    }

    /// The subset glyph id and advance (in em) of `c`; a character the font lacks shows as
    /// the font's .notdef box rather than failing the whole export.
    pub(crate) fn glyph(&mut self, c: char) -> (u16, f32) {
        if let Some(g) = self.glyphs.get(&c) {
            return *g;
        }
        let old = self.face.glyph_index(c).unwrap_or(GlyphId(0));
        let advance = self.advance_em(old);
        let before = self.remapper.num_gids();
        let new = self.remapper.remap(old.0);
        if self.remapper.num_gids() > before {
            self.widths.push(advance * 1000.0);
            self.unicode.push((new, c));
        }
        self.glyphs.insert(c, (new, advance));
        (new, advance)
    }

    /// Width of `text` at `size` points.
    pub(crate) fn width(&mut self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    /// `text` as two-byte glyph ids (the Identity-H encoding).
    pub(crate) fn encode(&mut self, text: &str) -> Vec<u8> {
        text.chars().flat_map(|c| self.glyph(c).0.to_be_bytes()).collect()
    }

    fn postscript_name(&self) -> String {
        let name = self
            .face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .unwrap_or_else(|| "JapaneseFont".to_owned());
        name.chars().filter(|c| c.is_ascii_graphic() && !"[](){}<>/%#".contains(*c)).collect()
    }

    /// The six-letter tag PDF asks of a subset font's name, derived from the glyphs it holds.
    fn subset_tag(&self) -> String {
        let mut h: u32 = 2_166_136_261;
        for g in self.remapper.remapped_gids() {
            for b in g.to_be_bytes() {
                h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
            }
        }
        (0..6)
            .map(|i| {
                let letter = (h >> (i * 5)) % 26;
                char::from(b'A' + letter as u8)
            })
            .collect()
    }

    /// Writes the Type0 font with `font_ref` and the objects it needs, from `next` on.
    pub(crate) fn write(&self, chunk: &mut Chunk, font_ref: Ref, next: &mut Ref, name: &str) -> Result<(), PdfError> {
        let mut alloc = || next.bump();
        let (cid_ref, descriptor_ref, file_ref, cmap_ref) = (alloc(), alloc(), alloc(), alloc());
        let subset = subsetter::subset(self.data, self.index, &self.remapper).map_err(|e| {
            PdfError::FontUnsupported { path: name.to_owned(), detail: format!("the font could not be subset ({e})") }
        })?;
        let base = format!("{}+{}", self.subset_tag(), self.postscript_name());
        let base = Name(base.as_bytes());
        let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

        chunk
            .type0_font(font_ref)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_ref)
            .to_unicode(cmap_ref);

        let mut cid = chunk.cid_font(cid_ref);
        cid.subtype(match self.outlines {
            Outlines::TrueType => CidFontType::Type2,
            Outlines::Cff => CidFontType::Type0,
        });
        cid.base_font(base).system_info(system_info).font_descriptor(descriptor_ref);
        cid.default_width(self.widths.first().copied().unwrap_or(1000.0));
        cid.widths().consecutive(0, self.widths.iter().copied());
        if self.outlines == Outlines::TrueType {
            cid.cid_to_gid_map_predefined(Name(b"Identity"));
        }
        cid.finish();

        let upem = f32::from(self.face.units_per_em().max(1));
        let scale = |v: i16| f32::from(v) * 1000.0 / upem;
        let bbox = self.face.global_bounding_box();
        let mut descriptor = chunk.font_descriptor(descriptor_ref);
        descriptor
            .name(base)
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(scale(bbox.x_min), scale(bbox.y_min), scale(bbox.x_max), scale(bbox.y_max)))
            .italic_angle(self.face.italic_angle())
            .ascent(scale(self.face.ascender()))
            .descent(scale(self.face.descender()))
            .cap_height(scale(self.face.capital_height().unwrap_or(self.face.ascender())))
            .stem_v(80.0);
        match self.outlines {
            Outlines::TrueType => descriptor.font_file2(file_ref),
            Outlines::Cff => descriptor.font_file3(file_ref),
        };
        descriptor.finish();

        let compressed = super::deflate(&subset)?;
        let mut file = chunk.stream(file_ref, &compressed);
        file.filter(Filter::FlateDecode);
        match self.outlines {
            Outlines::TrueType => {
                file.pair(Name(b"Length1"), subset.len() as i32);
            }
            Outlines::Cff => {
                file.pair(Name(b"Subtype"), Name(b"OpenType"));
            }
        }
        file.finish();

        let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system_info);
        for (gid, c) in &self.unicode {
            if *gid != 0 {
                cmap.pair(*gid, *c);
            }
        }
        let cmap = super::deflate(&cmap.finish())?;
        chunk.cmap(cmap_ref, &cmap).filter(Filter::FlateDecode);
        Ok(())
    }
}

/// In a collection (Noto Sans CJK ships one file for JP, KR, SC, TC, HK), the Japanese face.
fn japanese_face_index(data: &[u8]) -> u32 {
    let Some(n) = ttf_parser::fonts_in_collection(data) else { return 0 };
    (0..n)
        .find(|&i| {
            Face::parse(data, i).is_ok_and(|f| {
                f.names()
                    .into_iter()
                    .filter(|n| n.name_id == ttf_parser::name_id::FAMILY)
                    .filter_map(|n| n.to_string())
                    .any(|name| name.contains(" JP"))
            })
        })
        .unwrap_or(0)
}
