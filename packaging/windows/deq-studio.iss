; Inno Setup script of DEQ Studio's Windows installer (Inno Setup 6: https://jrsoftware.org/isinfo.php).
; Made on Windows after `python packaging\build.py`, which leaves the bundle in build\package\dist\deq-studio:
;
;     iscc /DVersion=0.1.0 packaging\windows\deq-studio.iss      -> dist\deq-studio-0.1.0-windows-amd64-setup.exe
;
; The version comes from pyproject.toml (packaging/README.md shows how to pass it). Per-user install by default (no
; administrator rights needed); the Start menu entry starts the windowed "DEQ Studio.exe", and deq-studio.exe is
; the command line.

#ifndef Version
  #error Pass the version: iscc /DVersion=X.Y.Z packaging\windows\deq-studio.iss
#endif
#define Bundle "..\..\build\package\dist\deq-studio"

[Setup]
AppId={{6F0D3C7A-2B7E-4F3D-9C59-5D2A8E1B4D10}
AppName=DEQ Studio
AppVersion={#Version}
AppPublisher=DEQ Studio developers
DefaultDirName={autopf}\DEQ Studio
DefaultGroupName=DEQ Studio
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=deq-studio-{#Version}-windows-amd64-setup
SetupIconFile=..\..\resources\icons\deq-studio.ico
UninstallDisplayIcon={app}\DEQ Studio.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
LicenseFile=..\LICENSE.txt

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\DEQ Studio"; Filename: "{app}\DEQ Studio.exe"
Name: "{group}\Uninstall DEQ Studio"; Filename: "{uninstallexe}"
Name: "{autodesktop}\DEQ Studio"; Filename: "{app}\DEQ Studio.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\DEQ Studio.exe"; Description: "{cm:LaunchProgram,DEQ Studio}"; Flags: nowait postinstall skipifsilent
