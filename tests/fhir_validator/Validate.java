// HL7 FHIR R4 validation of the JSON files in a folder with HAPI FHIR's FhirInstanceValidator, offline.
//
//   java -cp <the jars of pom.xml> Validate.java <folder> [<FHIR package .tgz> ...]
//
// Each file is validated against the core R4 definitions (hapi-fhir-validation-resources-r4) and the
// profiles it declares in meta.profile, taken from the packages given (e.g. the International Patient
// Summary). Codes of systems the validator cannot expand offline (LOINC, ICD-10, SNOMED CT) are checked
// for form only: an unknown system is a warning, not an error. Prints one JSON object a line:
// {"file": name, "issues": [{"severity", "location", "message"}]}.

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CachingValidationSupport;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.utilities.npm.NpmPackage;

public class Validate {
  /** The core definitions asked for with their version ("…/Organization|4.0.1", as packages built for R4
   * name them), which the core support only finds by their plain URL. */
  static class CoreByVersion implements IValidationSupport {
    private final FhirContext ctx;
    private final IValidationSupport core;

    CoreByVersion(FhirContext ctx, IValidationSupport core) {
      this.ctx = ctx;
      this.core = core;
    }

    @Override
    public FhirContext getFhirContext() {
      return ctx;
    }

    private static String plain(String url) {
      return url != null && url.startsWith("http://hl7.org/fhir/") && url.endsWith("|4.0.1")
          ? url.substring(0, url.length() - "|4.0.1".length()) : null;
    }

    @Override
    public IBaseResource fetchStructureDefinition(String url) {
      String plain = plain(url);
      return plain == null ? null : core.fetchStructureDefinition(plain);
    }

    @Override
    public IBaseResource fetchValueSet(String url) {
      String plain = plain(url);
      return plain == null ? null : core.fetchValueSet(plain);
    }

    @Override
    public IBaseResource fetchCodeSystem(String url) {
      String plain = plain(url);
      return plain == null ? null : core.fetchCodeSystem(plain);
    }
  }

  public static void main(String[] args) throws Exception {
    FhirContext ctx = FhirContext.forR4();
    IParser parser = ctx.newJsonParser();
    PrePopulatedValidationSupport packages = new PrePopulatedValidationSupport(ctx);
    for (int i = 1; i < args.length; i++) {
      try (InputStream in = new FileInputStream(args[i])) {
        NpmPackage npm = NpmPackage.fromPackage(in);
        for (String name : npm.list("package")) {
          if (!name.endsWith(".json") || name.equals("package.json") || name.startsWith(".")) {
            continue;
          }
          String text = new String(npm.load("package", name).readAllBytes(), StandardCharsets.UTF_8);
          if (!text.contains("\"resourceType\"")) {
            continue;
          }
          try {
            packages.addResource(parser.parseResource(text));
          } catch (Exception e) {
            // a resource of a kind the validator does not need (an example, an ImplementationGuide)
          }
        }
      }
    }
    UnknownCodeSystemWarningValidationSupport unknown = new UnknownCodeSystemWarningValidationSupport(ctx);
    unknown.setNonExistentCodeSystemSeverity(IValidationSupport.IssueSeverity.WARNING);
    DefaultProfileValidationSupport core = new DefaultProfileValidationSupport(ctx);
    ValidationSupportChain chain = new ValidationSupportChain(
        core,
        new CoreByVersion(ctx, core),
        packages,
        new CommonCodeSystemsTerminologyService(ctx),
        new InMemoryTerminologyServerValidationSupport(ctx),
        new SnapshotGeneratingValidationSupport(ctx),
        unknown);
    FhirInstanceValidator module = new FhirInstanceValidator(new CachingValidationSupport(chain));
    module.setAnyExtensionsAllowed(true);
    FhirValidator validator = ctx.newValidator().registerValidatorModule(module);
    ObjectMapper json = new ObjectMapper();
    List<Path> files;
    try (Stream<Path> listing = Files.list(Path.of(args[0]))) {
      files = listing.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    for (Path file : files) {
      ValidationResult result = validator.validateWithResult(Files.readString(file));
      ObjectNode line = json.createObjectNode();
      line.put("file", file.getFileName().toString());
      ArrayNode issues = line.putArray("issues");
      for (SingleValidationMessage m : result.getMessages()) {
        ObjectNode issue = issues.addObject();
        issue.put("severity", m.getSeverity().getCode());
        issue.put("location", m.getLocationString());
        issue.put("message", m.getMessage());
      }
      System.out.println(json.writeValueAsString(line));
    }
  }
}
