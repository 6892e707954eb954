; Inno Setup 6 script for Quayside on Windows: Start-menu entry, uninstaller, and a per-machine data folder for
; stations that several Windows users share. Build on Windows, after the PyInstaller bundle (installer/README.md):
;
;   pyinstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller installer\quayside.spec
;   iscc installer\windows\quayside.iss                       (unsigned)
;   iscc /DSIGN "/Ssigntool=signtool sign /fd sha256 /tr http://timestamp.digicert.com /td sha256 /a $f" installer\windows\quayside.iss
;
; The version is read from pyproject.toml, the project's one version number.

#define AppName "Quayside"
#define AppExe "quayside.exe"
#define Root SourcePath + "..\.."

; -- the version: the line `version = "X.Y.Z"` of the [project] table in pyproject.toml (or /DAppVersion=X.Y.Z)
#ifndef AppVersion
#define AppVersion ""
#define Handle FileOpen(Root + "\pyproject.toml")
#if !Handle
  #error Cannot open pyproject.toml to read the version
#endif
#define InProject 0
#sub ReadVersionLine
  #define Line Trim(FileRead(Handle))
  #if Line == "[project]"
    #define InProject 1
  #elif Copy(Line, 1, 1) == "["
    #define InProject 0
  #elif InProject && AppVersion == "" && Pos("version", Line) == 1 && Pos("=", Line) > 0
    #define AppVersion Trim(Copy(Line, Pos("=", Line) + 1, Len(Line)))
    #define AppVersion Copy(AppVersion, 2, Len(AppVersion) - 2)
  #endif
#endsub
#for {0; !FileEof(Handle); 0} ReadVersionLine
#expr FileClose(Handle)
#if AppVersion == ""
  #error No version found in the [project] table of pyproject.toml
#endif
#endif

[Setup]
; The AppId ties upgrades and the uninstaller together: never change it.
AppId={{6F0D8C2E-3B7A-4E59-9C1D-5A2F41B7E8D3}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Quayside
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-machine: a warehouse PC is set up once by the supervisor, for every user of it.
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=quayside-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\installer\windows\quayside.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
ChangesEnvironment=yes
MinVersion=10.0.17763
#ifdef SIGN
SignTool=signtool
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "shared"; Description: "Shared station: every Windows user of this PC uses one database and one set of settings (in {commonappdata}\{#AppName})"; GroupDescription: "Station:"; Flags: unchecked

[Files]
; The whole PyInstaller one-folder bundle.
Source: "{#Root}\dist\quayside\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Dirs]
; The per-machine data folder of a shared station: the database, its backups and the settings, writable by the
; station's users (not only by administrators).
Name: "{commonappdata}\{#AppName}"; Permissions: users-modify; Tasks: shared
Name: "{commonappdata}\{#AppName}\config"; Permissions: users-modify; Tasks: shared

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Registry]
; A shared station reads its settings (and through them its database) from the per-machine folder.
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "OMS_CONFIG_DIR"; ValueData: "{commonappdata}\{#AppName}\config"; Flags: uninsdeletevalue; Tasks: shared

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent runasoriginaluser

[UninstallDelete]
; Only what the program itself leaves in its folder. The database, backups, settings and logs stay: uninstalling
; the program must never take the warehouse's data with it.
Type: filesandordirs; Name: "{app}\__pycache__"

[Code]
// A shared station's first settings file names the shared SQLite database in the per-machine folder; an existing
// settings file (an upgrade, or a station pointed at PostgreSQL) is left as it is.
procedure CurStepChanged(CurStep: TSetupStep);
var
  Settings, Database: String;
begin
  if (CurStep = ssPostInstall) and WizardIsTaskSelected('shared') then
  begin
    Settings := ExpandConstant('{commonappdata}\{#AppName}\config\settings.json');
    Database := ExpandConstant('{commonappdata}\{#AppName}\quayside.sqlite3');
    StringChangeEx(Database, '\', '/', True);
    if not FileExists(Settings) then
      SaveStringToFile(Settings, '{' + #13#10 + '  "database_url": "sqlite:///' + Database + '"' + #13#10 + '}' + #13#10, False);
  end;
end;
