/*
 * Project-owned YARA rules for txmail-scan (no rule download exists here):
 * the EICAR anti-virus test string, and a txmail test marker that only this
 * engine knows (conf/clamav has no signature for it), so the tests can show
 * that each engine finds what the other does not. In production point
 * scan_yara_rules at the installation's own rule directory.
 */
rule Txmail_Test_EICAR
{
    meta:
        description = "the EICAR anti-virus test file"
    strings:
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    condition:
        $eicar
}

rule Txmail_Test_Marker
{
    meta:
        description = "txmail's YARA test marker (tests/integration 354)"
    strings:
        $marker = "TXMAIL-YARA-TEST-MARKER-7F3C9A"
    condition:
        $marker
}
