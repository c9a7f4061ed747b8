<?php
// The TCPDF baseline of the certificate benchmark (issue 5, DECISIONS 21):
// the same certificate as crates/pdf's CertificateTemplate — A4, the same
// text in Titillium Web, the seal's QR at level Q drawn by write2DBarcode
// (50 mm with a 4-module quiet zone), PDF/A-3 with the canonical record as
// an attached file — made by Debian's php-tcpdf, one certificate after the
// other on one core.
//
// Usage: php certificati.php <data.json> <count> [<first.pdf> [pdfa|plain]]
//   data.json  written by `cargo bench -p palazzo-pdf --bench certificati`:
//              {"spec": {...}, "fonts": [regular.ttf, bold.ttf],
//               "certs": [{"fields": [[label, value], ...], "paragraphs": [...],
//                          "payload": "PZ1:...", "url": "...", "record_hex": "..."}]}
//   count      how many certificates to render (cycling through "certs")
//   first.pdf  optional: where to write the first certificate
//   pdfa|plain pdfa (default): PDF/A-3 mode, as the certificate must be;
//              TCPDF then embeds whole fonts (it never subsets in PDF/A mode).
//              plain: not PDF/A, subset fonts, no attachment: TCPDF's fastest
//              output, for reference.
// Prints one line: `tcpdf <count> <seconds> <total bytes>`.

require_once('/usr/share/php/tcpdf/tcpdf.php');

$data = json_decode(file_get_contents($argv[1]), true);
$count = intval($argv[2]);
$first = $argv[3] ?? null;
$pdfa = ($argv[4] ?? 'pdfa') !== 'plain';
$spec = $data['spec'];

// Setup, not timed: the fonts converted once to TCPDF's format, the records
// written to files (TCPDF attaches files by path).
$work = sys_get_temp_dir() . '/palazzo-tcpdf-' . getmypid();
@mkdir($work . '/fonts', 0700, true);
$regular = TCPDF_FONTS::addTTFfont($data['fonts'][0], 'TrueTypeUnicode', '', 32, $work . '/fonts/');
$bold = TCPDF_FONTS::addTTFfont($data['fonts'][1], 'TrueTypeUnicode', '', 32, $work . '/fonts/');
if ($regular === false || $bold === false) {
    fwrite(STDERR, "cannot convert the fonts\n");
    exit(1);
}
$regular_file = $work . '/fonts/' . $regular . '.php';
$bold_file = $work . '/fonts/' . $bold . '.php';
foreach ($data['certs'] as $i => $c) {
    @mkdir("$work/rec$i", 0700);
    file_put_contents("$work/rec$i/certificato.cbor", hex2bin($c['record_hex']));
}

function certificate($pdfa, $spec, $c, $i, $work, $regular, $bold, $regular_file, $bold_file) {
    $pdf = new TCPDF('P', 'mm', 'A4', true, 'UTF-8', false, $pdfa ? 3 : false);
    $pdf->setPrintHeader(false);
    $pdf->setPrintFooter(false);
    $pdf->SetMargins(20, 20, 20);
    $pdf->SetAutoPageBreak(false);
    $pdf->SetCreator('Palazzo (TCPDF baseline)');
    $pdf->SetAuthor($spec['comune']);
    $pdf->SetTitle($spec['title']);
    $pdf->SetSubject($spec['title'] . ' — ' . $spec['comune']);
    $pdf->AddFont($regular, '', $regular_file);
    $pdf->AddFont($bold, '', $bold_file);
    $pdf->AddPage();
    $grey = array(0x5c, 0x6f, 0x82);
    $text = array(0x1a, 0x1a, 0x1a);

    $pdf->SetFont($bold, '', 16);
    $pdf->SetTextColor(0, 102, 204);
    $pdf->Cell(0, 7.4, $spec['comune'], 0, 1);
    $pdf->SetFont($regular, '', 9);
    $pdf->SetTextColor($grey[0], $grey[1], $grey[2]);
    foreach ($spec['header'] as $h) {
        $pdf->Cell(0, 4.2, $h, 0, 1);
    }
    $pdf->Ln(2);
    $pdf->SetFillColor(0, 102, 204);
    $pdf->Rect(20, $pdf->GetY(), 170, 0.3, 'F');
    $pdf->Ln(7);
    $pdf->SetFont($bold, '', 18);
    $pdf->SetTextColor($text[0], $text[1], $text[2]);
    $pdf->Cell(0, 9, $spec['title'], 0, 1);
    $pdf->SetFont($regular, '', 10.5);
    foreach ($spec['preamble'] as $p) {
        $pdf->MultiCell(0, 5.3, $p, 0, 'L');
    }
    $pdf->Ln(2);
    foreach ($c['fields'] as $f) {
        $pdf->SetFont($bold, '', 10.5);
        $pdf->Write(5.3, $f[0] . ': ');
        $pdf->SetFont($regular, '', 10.5);
        $pdf->Write(5.3, $f[1]);
        $pdf->Ln(6);
    }
    $pdf->Ln(2);
    foreach ($c['paragraphs'] as $p) {
        $pdf->MultiCell(0, 5.3, $p, 0, 'L');
        $pdf->Ln(1.4);
    }
    foreach ($spec['closing'] as $p) {
        $pdf->MultiCell(0, 5.3, $p, 0, 'L');
        $pdf->Ln(1.4);
    }
    $style = array('border' => false, 'padding' => 'auto', 'fgcolor' => array(0, 0, 0), 'bgcolor' => false);
    $pdf->write2DBarcode($c['payload'], 'QRCODE,Q', 20, 200, 50, 50, $style, 'N');
    $pdf->SetY(252);
    $pdf->SetFont($regular, '', 8);
    $pdf->SetTextColor($grey[0], $grey[1], $grey[2]);
    $pdf->MultiCell(0, 3.7, $spec['verification'], 0, 'L');
    $pdf->SetFont($bold, '', 8);
    $pdf->SetTextColor(0, 102, 204);
    $pdf->MultiCell(0, 3.7, $c['url'], 0, 'L');
    $pdf->SetY(282);
    $pdf->SetFont($regular, '', 8);
    $pdf->SetTextColor($grey[0], $grey[1], $grey[2]);
    $pdf->Cell(0, 4, $spec['footer'], 0, 1);
    // The canonical record (TCPDF attaches it with /AFRelationship /Source).
    if ($pdfa) {
        $pdf->Annotation(180, 282, 4, 4, 'Record canonico', array(
            'Subtype' => 'FileAttachment', 'Name' => 'PushPin', 'FS' => "$work/rec$i/certificato.cbor"));
    }
    return $pdf->Output('certificato.pdf', 'S');
}

$n = count($data['certs']);
$bytes = 0;
$start = hrtime(true);
for ($k = 0; $k < $count; $k++) {
    $out = certificate($pdfa, $spec, $data['certs'][$k % $n], $k % $n, $work, $regular, $bold, $regular_file, $bold_file);
    $bytes += strlen($out);
    if ($k === 0 && $first !== null) {
        file_put_contents($first, $out);
    }
}
$seconds = (hrtime(true) - $start) / 1e9;
foreach (glob("$work/*/*") as $f) { @unlink($f); }
foreach (glob("$work/*") as $d) { @rmdir($d); }
@rmdir($work);
printf("tcpdf %d %.6f %d\n", $count, $seconds, $bytes);
