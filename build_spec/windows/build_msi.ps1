<#
.SYNOPSIS
  Windows build machine: bundle -> Authenticode -> manifest -> release signature -> MSI -> signed MSI.

.DESCRIPTION
  Needs: Python 3.11 (x64), Git for Windows (bash), WiX Toolset 3.14 (candle, light, heat on
  PATH), the Windows SDK's signtool, the code-signing certificate in the machine store or on
  its token. Run from the repository's top folder:

    powershell -ExecutionPolicy Bypass -File build_spec\windows\build_msi.ps1 `
        -CertThumbprint 0123ABCD... -TimestampUrl http://timestamp.example-ca.com

  Steps:
   1. bash build_spec/build.sh: locked inputs, PyInstaller, then (CLERK_OS_SIGN_HOOK) this
      script's -SignOnly mode signs clerk-app.exe and clerk-app-cli.exe *before* the manifest
      is written, so MANIFEST.sha256 lists the signed executables;
   2. build_spec/sign.py: the Ed25519 release signature (key from $env:CLERK_SIGNING_KEY_FILE
      or $env:CLERK_SIGNING_KEY, never from the repository);
   3. heat.exe harvests the bundle into the component group BundleFiles, candle + light build
      clerk-app-<version>.msi from build_spec\windows\clerk-app.wxs (the same source CI builds
      with wixl on Debian: build_spec/windows/wixl_check.sh);
   4. signtool signs the MSI.
  Roll out silently (GPO, Intune, SCCM):  msiexec /i clerk-app-<version>.msi /qn /norestart
  The machine-wide C:\ProgramData\clerk-app\config.toml is IT's; the MSI never touches it.
#>
param(
    [string]$CertThumbprint = $env:CLERK_CERT_THUMBPRINT,
    [string]$TimestampUrl = $env:CLERK_TIMESTAMP_URL,
    [string]$BuildDir = "build_spec\_build",
    [string]$SignOnly = ""
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe exited $LASTEXITCODE" }
}

function Set-Authenticode([string[]]$Files) {
    if (-not $CertThumbprint) { throw "no certificate: -CertThumbprint or CLERK_CERT_THUMBPRINT" }
    if (-not $TimestampUrl) { throw "no timestamp server: -TimestampUrl or CLERK_TIMESTAMP_URL" }
    Invoke-Checked "signtool" (@("sign", "/fd", "SHA256", "/tr", $TimestampUrl, "/td", "SHA256",
        "/sha1", $CertThumbprint) + $Files)
    Invoke-Checked "signtool" (@("verify", "/pa") + $Files)
}

if ($SignOnly) {
    # Called by build.sh through CLERK_OS_SIGN_HOOK with the bundle folder.
    Set-Authenticode @((Join-Path $SignOnly "clerk-app.exe"), (Join-Path $SignOnly "clerk-app-cli.exe"))
    exit 0
}

$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root
$env:CLERK_BUILD_DIR = (Join-Path $Root $BuildDir)
$hook = Join-Path $env:TEMP "clerk-sign-hook.sh"
"#!/usr/bin/env bash`npowershell -ExecutionPolicy Bypass -File '$PSCommandPath' -CertThumbprint '$CertThumbprint' -TimestampUrl '$TimestampUrl' -SignOnly `"`$(cygpath -w `"`$1`")`"`n" |
    Set-Content -Encoding ascii $hook
$env:CLERK_OS_SIGN_HOOK = $hook
Invoke-Checked "bash" @("build_spec/build.sh")

$Bundle = Join-Path $env:CLERK_BUILD_DIR "dist\clerk-app"
$Python = Join-Path $env:CLERK_BUILD_DIR "venv\Scripts\python.exe"
Invoke-Checked $Python @("build_spec\sign.py", $Bundle)
$Version = (& (Join-Path $Bundle "clerk-app-cli.exe") --version).Split(" ")[1]

$Wix = Join-Path $env:CLERK_BUILD_DIR "wix"
New-Item -ItemType Directory -Force $Wix | Out-Null
Invoke-Checked "heat" @("dir", $Bundle, "-nologo", "-ag", "-srd", "-sfrag", "-scom", "-sreg",
    "-cg", "BundleFiles", "-dr", "INSTALLDIR", "-var", "var.SourceDir", "-platform", "x64",
    "-out", (Join-Path $Wix "bundle-files.wxs"))
Invoke-Checked "candle" @("-nologo", "-arch", "x64", "-dWin64=yes", "-dVersion=$Version",
    "-dSourceDir=$Bundle", "-dConfigFile=build_spec\linux\config.toml", "-out", "$Wix\",
    "build_spec\windows\clerk-app.wxs", (Join-Path $Wix "bundle-files.wxs"))
$Msi = Join-Path $env:CLERK_BUILD_DIR "dist\clerk-app-$Version.msi"
Invoke-Checked "light" @("-nologo", "-out", $Msi, (Join-Path $Wix "clerk-app.wixobj"),
    (Join-Path $Wix "bundle-files.wixobj"))
Set-Authenticode @($Msi)
Write-Host "== $Msi (signed); SBOM: $(Join-Path $env:CLERK_BUILD_DIR 'dist\clerk-app.cdx.json')"
