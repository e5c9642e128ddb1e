package engine

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mimeNorm replaces a body's boundary by "BOUNDARY".
func mimeNorm(s, boundary string) string { return strings.ReplaceAll(s, boundary, "BOUNDARY") }

// mimeGolden are bodies libcurl 7.88.1 (Debian 7.88.1-10+deb12u14) wrote for
// curl_mime_* calls made as the plugin makes them (curl_mime_name, curl_mime_data,
// curl_mime_type, curl_mime_filename, curl_mime_encoder with the encoder name as given)
// and CURLOPT_HTTPHEADER, captured on the wire; the boundary is normalised. rc is the
// transfer's curl code. A quoted-printable body was sent chunked by curl: its content
// is the de-chunked body (hc sends it with Content-Length).
var mimeGolden = []struct {
	headers []string
	parts   []MimePart
	ct      string
	rc      int
	body    string
}{
	{
		headers: nil,
		parts: []MimePart{
			{Name: "q", HasName: true, Encoder: "quoted-printable", Data: []byte("hello world \r\nline=two\ttab\t\r\n\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff trailing aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy \r\nz\r\nz\r\nzend ")},
		},
		ct:   "multipart/form-data; boundary=BOUNDARY",
		rc:   0,
		body: "--BOUNDARY\r\nContent-Disposition: form-data; name=\"q\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhello world=20\r\nline=3Dtwo\ttab=09\r\n=00=01=02=03=04=05=06=07=08\t=0A=0B=0C=0D=0E=0F=10=11=12=13=14=15=16=17=18=\r\n=19=1A=1B=1C=1D=1E=1F !\"#$%&'()*+,-./0123456789:;<=3D>?@ABCDEFGHIJKLMNOPQRS=\r\nTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~=7F=80=81=82=83=84=85=86=87=88=\r\n=89=8A=8B=8C=8D=8E=8F=90=91=92=93=94=95=96=97=98=99=9A=9B=9C=9D=9E=9F=A0=A1=\r\n=A2=A3=A4=A5=A6=A7=A8=A9=AA=AB=AC=AD=AE=AF=B0=B1=B2=B3=B4=B5=B6=B7=B8=B9=BA=\r\n=BB=BC=BD=BE=BF=C0=C1=C2=C3=C4=C5=C6=C7=C8=C9=CA=CB=CC=CD=CE=CF=D0=D1=D2=D3=\r\n=D4=D5=D6=D7=D8=D9=DA=DB=DC=DD=DE=DF=E0=E1=E2=E3=E4=E5=E6=E7=E8=E9=EA=EB=EC=\r\n=ED=EE=EF=F0=F1=F2=F3=F4=F5=F6=F7=F8=F9=FA=FB=FC=FD=FE=FF trailing aaaaaaaa=\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\r\naaaaaaaaaaaaaaaaa\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy=\r\ny=20\r\nz\r\nz\r\nzend=20\r\n--BOUNDARY--\r\n",
	},
	{
		headers: nil,
		parts: []MimePart{
			{Name: "q", HasName: true, Encoder: "Quoted-Printable", Data: []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\r\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb \r\ncccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\r\nddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\re\nffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\t")},
		},
		ct:   "multipart/form-data; boundary=BOUNDARY",
		rc:   0,
		body: "--BOUNDARY\r\nContent-Disposition: form-data; name=\"q\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=3D\r\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=\r\n=20\r\ncccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\r\nddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd=\r\n=0De=0Affffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff=\r\nffffffffffff=09\r\n--BOUNDARY--\r\n",
	},
	{
		headers: nil,
		parts: []MimePart{
			{Name: "s", HasName: true, Encoder: "7bit", Data: []byte("abc\xff")},
		},
		ct:   "multipart/form-data; boundary=BOUNDARY",
		rc:   26,
		body: "--BOUNDARY\r\nContent-Disposition: form-data; name=\"s\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\nabc",
	},
	{
		headers: nil,
		parts: []MimePart{
			{Name: "b0", HasName: true, Encoder: "base64", Data: []byte("")},
			{Name: "b1", HasName: true, Encoder: "base64", Data: []byte("\x00")},
			{Name: "b2", HasName: true, Encoder: "base64", Data: []byte("\x00\x01")},
			{Name: "b3", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02")},
			{Name: "b4", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03")},
			{Name: "b5", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03\x04")},
			{Name: "b56", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./01234567")},
			{Name: "b57", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./012345678")},
			{Name: "b58", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789")},
			{Name: "b59", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:")},
			{Name: "b60", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;")},
			{Name: "b114", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopq")},
			{Name: "b200", HasName: true, Encoder: "base64", Data: []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7")},
		},
		ct:   "multipart/form-data; boundary=BOUNDARY",
		rc:   0,
		body: "--BOUNDARY\r\nContent-Disposition: form-data; name=\"b0\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b1\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAA==\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b2\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAE=\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b3\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b4\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b5\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b56\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc=\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b57\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b58\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\nOQ==\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b59\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\nOTo=\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b60\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\nOTo7\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b114\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\nOTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"b200\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\nOTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\r\ncnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq\r\nq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsc=\r\n--BOUNDARY--\r\n",
	},
	{
		headers: nil,
		parts: []MimePart{
			{Name: "a", HasName: true, Type: "", HasType: true, Data: []byte("q")},
			{Name: "", HasName: true, Filename: "", HasFilename: true, Data: []byte("q")},
			{Type: "multipart/x", HasType: true, Data: []byte("q")},
			{Type: "text/plain", HasType: true, Data: []byte("q")},
			{Name: "q\"\r\nz\\", HasName: true, Filename: "f\"\\.TXT", HasFilename: true, Data: []byte("")},
			{Name: "n", HasName: true, Filename: "x.jpeg", HasFilename: true, Data: []byte("")},
			{Name: "n", HasName: true, Filename: "dir/x.svg", HasFilename: true, Data: []byte("<svg/>")},
			{Name: "n", HasName: true, Filename: ".gif", HasFilename: true, Data: []byte("1")},
			{Name: "n", HasName: true, Filename: "a.html", HasFilename: true, Encoder: "8bit", Data: []byte("\x00\xff")},
			{Name: "n", HasName: true, Filename: "a.htm", HasFilename: true, Type: "text/plain", HasType: true, Encoder: "binary", Data: []byte("")},
			{Name: "n", HasName: true, Filename: "a.xml", HasFilename: true, Encoder: "bogus", Data: []byte("")},
			{Name: "n", HasName: true, Filename: "a.png", HasFilename: true, Data: []byte("")},
			{Name: "n", HasName: true, Filename: "a.pdf", HasFilename: true, Data: []byte("")},
			{Name: "n", HasName: true, Filename: "a.jpg", HasFilename: true, Data: []byte("")},
			{Name: "n", HasName: true, Filename: "a.bin", HasFilename: true, Data: []byte("")},
			{Name: "n", HasName: true, Filename: "txt", HasFilename: true, Data: []byte("")},
		},
		ct:   "multipart/form-data; boundary=BOUNDARY",
		rc:   0,
		body: "--BOUNDARY\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: \r\n\r\nq\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"\"; filename=\"\"\r\n\r\nq\r\n--BOUNDARY\r\nContent-Disposition: form-data\r\nContent-Type: multipart/x\r\n\r\nq\r\n--BOUNDARY\r\nContent-Disposition: form-data\r\nContent-Type: text/plain\r\n\r\nq\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"q%22%0D%0Az\\\"; filename=\"f%22\\.TXT\"\r\nContent-Type: text/plain\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"x.jpeg\"\r\nContent-Type: image/jpeg\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"dir/x.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<svg/>\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\".gif\"\r\nContent-Type: image/gif\r\n\r\n1\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"a.html\"\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\x00\xff\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"a.htm\"\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"a.xml\"\r\nContent-Type: application/xml\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"a.bin\"\r\n\r\n\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"; filename=\"txt\"\r\n\r\n\r\n--BOUNDARY--\r\n",
	},
	{
		headers: []string{"Content-Type: multipart/mixed"},
		parts: []MimePart{
			{Data: []byte("q")},
			{Type: "multipart/x", HasType: true, Data: []byte("q")},
			{Type: "text/x", HasType: true, Data: []byte("q")},
			{Filename: "x.PDF", HasFilename: true, Data: []byte("q")},
			{Name: "n", HasName: true, Data: []byte("q")},
		},
		ct:   "multipart/mixed; boundary=BOUNDARY",
		rc:   0,
		body: "--BOUNDARY\r\n\r\nq\r\n--BOUNDARY\r\nContent-Type: multipart/x\r\n\r\nq\r\n--BOUNDARY\r\nContent-Type: text/x\r\n\r\nq\r\n--BOUNDARY\r\nContent-Disposition: attachment; filename=\"x.PDF\"\r\nContent-Type: application/pdf\r\n\r\nq\r\n--BOUNDARY\r\nContent-Disposition: attachment; name=\"n\"\r\n\r\nq\r\n--BOUNDARY--\r\n",
	},
	{
		headers: []string{"Content-Type;"},
		parts: []MimePart{
			{Name: "n", HasName: true, Data: []byte("q")},
		},
		ct:   "; boundary=BOUNDARY",
		rc:   0,
		body: "--BOUNDARY\r\nContent-Disposition: attachment; name=\"n\"\r\n\r\nq\r\n--BOUNDARY--\r\n",
	},
	{
		headers: []string{"content-type:   Multipart/Form-Data ; a=b", "X-A: 1"},
		parts: []MimePart{
			{Name: "n", HasName: true, Data: []byte("q")},
		},
		ct:   "Multipart/Form-Data ; a=b; boundary=BOUNDARY",
		rc:   0,
		body: "--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nq\r\n--BOUNDARY--\r\n",
	},
	{
		headers: []string{"Content-Type: multipart/form-data2"},
		parts: []MimePart{
			{Name: "n", HasName: true, Data: []byte("q")},
		},
		ct:   "multipart/form-data2; boundary=BOUNDARY",
		rc:   0,
		body: "--BOUNDARY\r\nContent-Disposition: attachment; name=\"n\"\r\n\r\nq\r\n--BOUNDARY--\r\n",
	},
	{
		headers: nil,
		parts:   nil,
		ct:      "multipart/form-data; boundary=BOUNDARY",
		rc:      0,
		body:    "--BOUNDARY--\r\n",
	},
}

func TestMimeLibcurlGolden(t *testing.T) {
	for i, g := range mimeGolden {
		m := &Multipart{Boundary: "------------------------0123456789abcdef"}
		for _, p := range g.parts {
			p.Encoder, _ = MimeEncoderName(p.Encoder)
			m.Parts = append(m.Parts, p)
		}
		got, ct, err := m.Render(g.headers)
		if g.rc != 0 {
			var ce *curlError
			if !errors.As(err, &ce) || ce.code != g.rc {
				t.Errorf("golden %d: error %v, want curl %d", i, err, g.rc)
			}
		} else if err != nil {
			t.Errorf("golden %d: %v", i, err)
		}
		if mimeNorm(ct, m.Boundary) != g.ct || m.ContentType(g.headers) != ct {
			t.Errorf("golden %d: content type %q, want %q", i, ct, g.ct)
		}
		if n := mimeNorm(string(got), m.Boundary); n != g.body {
			t.Errorf("golden %d: body differs\n got %q\nwant %q", i, n, g.body)
		}
		br, err := m.Open(g.headers)
		if err != nil {
			t.Fatal(err)
		}
		if g.rc == 0 && br.Len != int64(len(got)) {
			t.Errorf("golden %d: Len %d for %d bytes", i, br.Len, len(got))
		}
		br.Close()
	}
}

// TestMimeOracleBodies builds the oracle's multipart scenarios through the options and
// compares the bodies byte for byte (boundary normalised) with what the plugin sent.
func TestMimeOracleBodies(t *testing.T) {
	files := bgTestFiles(t)
	bin200 := make([]byte, 200)
	for i := range bin200 {
		bin200[i] = byte(i)
	}
	cases := []struct {
		scenario string
		form     string
		length   int64
		body     string
	}{
		{"multipart_fields",
			`{"text": {"data": "hello", "type": "text/plain", "filename": "a.txt"}, "plain": {"data": "v&w=1"},
			  "doc": {"data": {"file": "` + files["part.txt"] + `"}, "filename": "part.txt"}, "blob": {"data": "xyz", "filename": "blob.bin"}}`,
			568,
			"--BOUNDARY\r\nContent-Disposition: form-data; name=\"text\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
				"--BOUNDARY\r\nContent-Disposition: form-data; name=\"plain\"\r\n\r\nv&w=1\r\n" +
				"--BOUNDARY\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"part.txt\"\r\nContent-Type: text/plain\r\n\r\npart file content\nline 2\n\r\n" +
				"--BOUNDARY\r\nContent-Disposition: form-data; name=\"blob\"; filename=\"blob.bin\"\r\n\r\nxyz\r\n--BOUNDARY--\r\n"},
		{"multipart_file_part_only",
			`{"upload": {"file": "` + files["bin200.bin"] + `", "type": "application/octet-stream"}}`,
			381,
			"--BOUNDARY\r\nContent-Disposition: form-data; name=\"upload\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
				string(bin200) + "\r\n--BOUNDARY--\r\n"},
		{"multipart_encoder_base64",
			`{"b": {"data": "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. ", "encoder": "base64", "type": "text/plain"}}`,
			381,
			"--BOUNDARY\r\nContent-Disposition: form-data; name=\"b\"\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				"VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4gVGhlIHF1aWNrIGJy\r\n" +
				"b3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4gVGhlIHF1aWNrIGJyb3duIGZveCBqdW1w\r\n" +
				"cyBvdmVyIHRoZSBsYXp5IGRvZy4g\r\n--BOUNDARY--\r\n"},
		{"fields as a list (no names)", `[{"data": "a"}, {"data": "b", "filename": "x.txt"}]`, -1,
			"--BOUNDARY\r\nContent-Disposition: form-data\r\n\r\na\r\n" +
				"--BOUNDARY\r\nContent-Disposition: form-data; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nb\r\n--BOUNDARY--\r\n"},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			spec, err := ParseBackgroundRequest("http://127.0.0.1:28080/form", []byte(`{"form": `+c.form+`}`), nil, false)
			if err != nil {
				t.Fatal(err)
			}
			got, br, err := bgOpenAll(t, spec)
			if err != nil {
				t.Fatal(err)
			}
			b := spec.Body.Form.Boundary
			if n := mimeNorm(string(got), b); n != c.body {
				t.Errorf("body\n got %q\nwant %q", n, c.body)
			}
			if br.Len != int64(len(got)) || (c.length >= 0 && br.Len != c.length) {
				t.Errorf("Len %d, read %d, want %d", br.Len, len(got), c.length)
			}
			if br.ContentType != "multipart/form-data; boundary="+b {
				t.Errorf("Content-Type %q", br.ContentType)
			}
		})
	}
}

func TestMimeHelpers(t *testing.T) {
	for in, want := range map[string]string{"binary": "binary", "8BIT": "8bit", "7bit": "7bit", "Base64": "base64",
		"quoted-printable": "quoted-printable", "QUOTED-PRINTABLE": "quoted-printable", "gzip": "", "": "", "base64 ": ""} {
		got, ok := MimeEncoderName(in)
		if got != want || ok != (want != "") {
			t.Errorf("MimeEncoderName(%q) = %q, %v", in, got, ok)
		}
	}
	for in, want := range map[string]string{"a.gif": "image/gif", "a.JPG": "image/jpeg", "a.jpeg": "image/jpeg", "a.png": "image/png",
		"a.svg": "image/svg+xml", "a.txt": "text/plain", "a.htm": "text/html", "a.html": "text/html", "a.pdf": "application/pdf",
		"a.xml": "application/xml", "a.bin": "", "txt": "", ".txt": "text/plain", "a.txt.gz": "", "": "", "dir.txt/x": ""} {
		if got := MimeContentTypeFor(in); got != want {
			t.Errorf("MimeContentTypeFor(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{`a"b`: `a%22b`, "a\r\nb": "a%0D%0Ab", `a\b`: `a\b`, "é": "é", "%22": "%22"} {
		if got := mimeEscape(in); got != want {
			t.Errorf("mimeEscape(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct {
		custom []string
		want   string
	}{
		{nil, "multipart/form-data"},
		{[]string{"X-A: 1"}, "multipart/form-data"},
		{[]string{"Content-Type: multipart/mixed"}, "multipart/mixed"},
		{[]string{"content-type:   text/x ; a=b"}, "text/x ; a=b"},
		{[]string{"Content-Type:"}, ""},
		{[]string{"Content-Type;"}, ""},
		{[]string{"Content-Type; x", "Content-Type: y"}, "y"},
		{[]string{"Content-Typex: y"}, "multipart/form-data"},
	} {
		if got := mimeTopType(c.custom); got != c.want {
			t.Errorf("mimeTopType(%q) = %q, want %q", c.custom, got, c.want)
		}
	}
	for _, n := range []int64{0, 1, 2, 3, 4, 56, 57, 58, 59, 60, 114, 200, 1000} {
		data := bytes.Repeat([]byte{0xa5}, int(n))
		enc, _ := mimeEncode("base64", data)
		if int64(len(enc)) != mimeBase64Len(n) {
			t.Errorf("mimeBase64Len(%d) = %d, encoded %d", n, mimeBase64Len(n), len(enc))
		}
		if got := evpBase64Len(n); got != int64(len(bgEVPLines(data))) {
			t.Errorf("evpBase64Len(%d) = %d, want %d", n, got, len(bgEVPLines(data)))
		}
	}
	m, err := NewMultipart()
	if err != nil || !regexp.MustCompile(`^-{24}[0-9a-f]{16}$`).MatchString(m.Boundary) || len(m.Boundary) != mimeBoundaryLen {
		t.Errorf("boundary %q %v", m.Boundary, err)
	}
}

// TestMimeFileParts: file parts are read when the body is opened, with every encoder,
// and give the same bytes as the same content given as data.
func TestMimeFileParts(t *testing.T) {
	dir := t.TempDir()
	contents := map[string][]byte{
		"text": []byte("hello world \r\nline=two\t\r\n" + strings.Repeat("x", 200) + " "),
		"bin":  bytes.Repeat([]byte{0, 1, 2, 0xfe, 0xff, 'a'}, 5000),
		"none": {},
	}
	for name, data := range contents {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, enc := range []string{"", "binary", "8bit", "7bit", "base64", "quoted-printable"} {
			fileForm := &Multipart{Boundary: "b", Parts: []MimePart{{Name: "f", HasName: true, File: path, Encoder: enc}}}
			dataForm := &Multipart{Boundary: "b", Parts: []MimePart{{Name: "f", HasName: true, Data: data, Encoder: enc}}}
			got, _, ferr := fileForm.Render(nil)
			want, _, derr := dataForm.Render(nil)
			if !bytes.Equal(got, want) || (ferr == nil) != (derr == nil) {
				t.Errorf("%s/%s: file part differs from data part (%v, %v)", name, enc, ferr, derr)
			}
			br, err := fileForm.Open(nil)
			if err != nil {
				t.Fatal(err)
			}
			n, rerr := io.Copy(io.Discard, br)
			br.Close()
			if rerr == nil && n != br.Len {
				t.Errorf("%s/%s: Len %d, read %d", name, enc, br.Len, n)
			}
			if enc == "7bit" && name == "bin" {
				var ce *curlError
				if !errors.As(rerr, &ce) || ce.code != 26 || n != int64(len(want)) || !bytes.HasSuffix(want, []byte{0, 1, 2}) {
					t.Errorf("7bit on binary: %v after %d bytes", rerr, n)
				}
			} else if rerr != nil {
				t.Errorf("%s/%s: %v", name, enc, rerr)
			}
		}
	}
	// a file that is gone when the body is opened, or shrank after being measured
	gone := &Multipart{Boundary: "b", Parts: []MimePart{{File: filepath.Join(dir, "gone")}}}
	if _, err := gone.Open(nil); err == nil {
		t.Errorf("missing file opened")
	}
	path := filepath.Join(dir, "shrinks")
	_ = os.WriteFile(path, bytes.Repeat([]byte("z"), 100000), 0o600)
	m := &Multipart{Boundary: "b", Parts: []MimePart{{File: path}}}
	br, err := m.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Truncate(path, 10)
	_, err = io.Copy(io.Discard, br)
	br.Close()
	var ce *curlError
	if !errors.As(err, &ce) || ce.code != 26 {
		t.Errorf("shrunk file: %v", err)
	}
}

// TestMimeQuotedPrintable checks the encoder on its corner cases against libcurl 7.88.1's
// output (see mimeGolden) and on properties: no line over 76 characters, and decoding
// gives the input back.
func TestMimeQuotedPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"a", "a"},
		{" ", "=20"},
		{"a \r\nb", "a=20\r\nb"},
		{"a b", "a b"},
		{"\r", "=0D"},
		{"\n", "=0A"},
		{"\r\n", "\r\n"},
		{"=", "=3D"},
		{"\t\r\n", "=09\r\n"},
		{strings.Repeat("a", 76), strings.Repeat("a", 76)},
		{strings.Repeat("a", 77), strings.Repeat("a", 75) + "=\r\naa"},
		{strings.Repeat("a", 76) + "\r\n", strings.Repeat("a", 76) + "\r\n"},
		{strings.Repeat("a", 74) + "=b", strings.Repeat("a", 74) + "=\r\n=3Db"},
		{strings.Repeat("a", 73) + "=", strings.Repeat("a", 73) + "=3D"},
	} {
		if got := string(mimeQP([]byte(c.in))); got != c.want {
			t.Errorf("mimeQP(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	in := make([]byte, 0, 4096)
	for i := 0; i < 4096; i++ {
		in = append(in, byte(i*31%256))
	}
	out := string(mimeQP(in))
	for _, line := range strings.Split(out, "\r\n") {
		if len(line) > 76 {
			t.Fatalf("line of %d characters", len(line))
		}
	}
	dec := mimeQPDecode(out)
	if !bytes.Equal(dec, in) {
		t.Errorf("quoted-printable does not decode to its input")
	}
}

// mimeQPDecode is a minimal quoted-printable decoder for the round trip.
func mimeQPDecode(s string) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			if strings.HasPrefix(s[i+1:], "\r\n") {
				i += 2
				continue
			}
			var b byte
			for _, c := range []byte(s[i+1 : i+3]) {
				b <<= 4
				if c >= 'A' {
					b |= c - 'A' + 10
				} else {
					b |= c - '0'
				}
			}
			out = append(out, b)
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}
